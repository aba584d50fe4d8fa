package projections_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
)

// BenchmarkProjectBatches measures events per second folded into the read
// model, 1000 events a transaction, and prints the ratio to a baseline
// measured in the same run: plain SQLite inserts of the same number of rows
// per event (the event index, its entity row and two postings), also 1000
// events a transaction. The ratio is what to read on a shared machine.
func BenchmarkProjectBatches(b *testing.B) { benchmarkProject(b, 1000) }

// BenchmarkProjectSmallBatches is BenchmarkProjectBatches with batches of
// 100 events, about what the live projector folds at a time behind a
// writer whose groups hold 64 receipts (issue 10: under HTTP load the live
// projector took most of ledgerd's CPU). The baseline's transactions stay
// at 1000 events.
func BenchmarkProjectSmallBatches(b *testing.B) { benchmarkProject(b, 100) }

func benchmarkProject(b *testing.B, batch int) {
	// The projector's K, not the tests' (TestMain).
	defer seqtotals.SetEvery(seqtotals.DefaultEvery)()
	const receipts = 2500 // 5000 events: each receipt and its fee
	_, log := testnats.Log(b)
	w := ledgertest.Writer(b, log, "mdfm")
	ledgertest.OpenTerm(b, w)
	var wg sync.WaitGroup
	for i := range receipts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("r-%d", i)
			ledgertest.MustSubmit(b, w, id, "olu", &domain.RecordContribution{ID: id, DonorID: "osaka", TermID: "2020-2021", Amount: ledgertest.USD("100.00"), ReceivedOn: "2021-01-15"})
		}()
	}
	wg.Wait()
	var evs []events.Event
	if err := log.ReadAll(context.Background(), 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
		b.Fatal(err)
	}

	baseline := rawSQLiteRate(b, len(evs))
	b.ResetTimer()
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := projections.Open(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0, c0 := time.Now(), processCPU()
		for j := 0; j < len(evs); j += batch {
			// A context that can end, as the projector's always can
			// (its signals): the driver treats its statements differently.
			if err := s.ApplyBatch(b.Context(), evs[j:min(j+batch, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(t0)
		cpu += processCPU() - c0
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	perSec := float64(b.N*len(evs)) / total.Seconds()
	b.ReportMetric(perSec, "events/s")
	b.ReportMetric(baseline, "raw-sqlite-events/s")
	b.ReportMetric(perSec/baseline, "ratio-to-raw")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*len(evs)), "cpu-µs/event")
}

// rawSQLiteRate inserts four rows per event in STRICT tables, 1000 events a
// transaction, with the read model's pragmas, and returns events per second.
func rawSQLiteRate(b *testing.B, n int) float64 {
	dsn := "file:" + filepath.Join(b.TempDir(), "raw.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE ev (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, hash TEXT NOT NULL) STRICT`,
		`CREATE TABLE ent (id TEXT PRIMARY KEY, donor TEXT NOT NULL, amount INTEGER NOT NULL) STRICT`,
		`CREATE TABLE post (seq INTEGER NOT NULL, leg INTEGER NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (seq, leg)) STRICT`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	for j := 0; j < n; j += 1000 {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for k := j; k < min(j+1000, n); k++ {
			tx.Exec(`INSERT INTO ev VALUES (?, ?, ?, ?)`, k, fmt.Sprint("id-", k), "contribution_received", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			tx.Exec(`INSERT INTO ent VALUES (?, ?, ?)`, fmt.Sprint("e-", k), "osaka", 10000)
			tx.Exec(`INSERT INTO post VALUES (?, 0, 'trust:cash', 10000), (?, 1, 'trust:unallocated', -10000)`, k, k)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(t0).Seconds()
}
