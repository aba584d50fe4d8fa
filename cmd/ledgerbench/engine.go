package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
	_ "modernc.org/sqlite"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// benchAppend is workload 1: receipts (two events each) from many callers
// through the writer, against raw atomic batches of 1000 messages of the
// same size on the same embedded server (fsync on every commit). Two rows
// more put the figure in context: raw batches of the size the writer's
// groups had, and the writer with --append-clients-more callers, whose
// groups can fill a batch of 1000.
func benchAppend(ctx context.Context, c config, dir string, r *Results) error {
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := eventlog.ConnectEmbedded(ns)
	if err != nil {
		return err
	}
	defer nc.Close()
	log, err := eventlog.Open(ctx, nc, eventlog.DefaultStream, 1)
	if err != nil {
		return err
	}
	w, err := ledger.Open(ctx, log, genFund, ledger.Options{})
	if err != nil {
		return err
	}
	defer w.Close()
	if err := submit(ctx, w, "term", "ana", &domain.OpenTerm{ID: genTerm, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usdCents(100_000_000), FeeRate: "0.01"}); err != nil {
		return err
	}
	if err := submit(ctx, w, "donor", "olu", &domain.RegisterDonor{ID: "d-0", Name: "Donor 0", Kind: "member_city", Country: "DE"}); err != nil {
		return err
	}
	commands := max(c.appendEvents/2, 1)
	appends0, events0 := w.Stats()
	if r.AppendEventsPerS, err = writerRate(ctx, w, c.appendClients, "c", commands); err != nil {
		return err
	}
	appends, evs := w.Stats()
	r.AppendGroupEvents = float64(evs-events0) / float64(appends-appends0)

	// The same number of messages, of the size of the writer's last event.
	last, _, err := log.LastEvent(ctx, genFund)
	if err != nil {
		return err
	}
	b, err := last.Encode()
	if err != nil {
		return err
	}
	if r.RawAppendEventsPerS, err = rawAppendRate(ctx, nc, "RAW", 2*commands, eventlog.MaxBatchEvents, len(b)); err != nil {
		return err
	}
	r.AppendRatio = r.AppendEventsPerS / r.RawAppendEventsPerS
	group := max(int(r.AppendGroupEvents+0.5), 1)
	if r.RawGroupAppendEventsPerS, err = rawAppendRate(ctx, nc, "RAWGROUP", 2*commands, group, len(b)); err != nil {
		return err
	}
	if c.appendClientsMore > 0 {
		r.AppendMoreEventsPerS, err = writerRate(ctx, w, c.appendClientsMore, "m", commands)
	}
	return err
}

// submit sends one command to the writer as actor.
func submit(ctx context.Context, w *ledger.Writer, id, actor string, cmd domain.Command) error {
	domain.SetMeta(cmd, domain.Meta{Actor: actor, Today: w.Today(), Role: "officer"})
	_, err := w.Submit(ctx, ledger.Request{CommandID: id, CommandHash: id, Command: cmd})
	return err
}

// writerRate sends commands receipts through w from callers concurrent
// callers, each waiting for its answer before it sends the next, and
// returns events appended per second.
func writerRate(ctx context.Context, w *ledger.Writer, callers int, prefix string, commands int) (float64, error) {
	next := make(chan int, callers)
	go func() {
		defer close(next)
		for i := range commands {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	t0 := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id := fmt.Sprintf("%s-%d", prefix, i)
				err := submit(ctx, w, id, "olu", &domain.RecordContribution{ID: id, DonorID: "d-0", TermID: genTerm, Amount: usdCents(100_000), ReceivedOn: day(i), BankRef: id})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	return float64(2*commands) / elapsed.Seconds(), firstErr
}

// rawAppendRate publishes n messages of size bytes in atomic batches of
// batch messages (with the client's default flow control) to a stream of
// its own and returns messages per second.
func rawAppendRate(ctx context.Context, nc *nats.Conn, stream string, n, batch, size int) (float64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	subject := strings.ToLower(stream) + ".x"
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subject}, Storage: jetstream.FileStorage, AllowAtomicPublish: true}); err != nil {
		return 0, err
	}
	payload := make([]byte, size)
	t0 := time.Now()
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		msgs := make([]*nats.Msg, k)
		for i := range msgs {
			msgs[i] = nats.NewMsg(subject)
			msgs[i].Data = payload
		}
		if _, err := jetstreamext.PublishMsgBatch(ctx, js, msgs); err != nil {
			return 0, fmt.Errorf("raw batch: %w", err)
		}
		sent += k
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// benchProjection is workload 3: the generated history folded into a new
// read model, 1000 events a transaction, against plain inserts of four rows
// an event (the event, its entity, two postings) in STRICT tables with the
// read model's pragmas, 1000 events a transaction.
func benchProjection(ctx context.Context, c config, dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var evs []events.Event
	if _, err := newGenerator(10).batches(c.projectEvents, 1<<30, func(b []events.Event) error { evs = b; return nil }); err != nil {
		return err
	}
	s, err := projections.Open(filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	// The projector folds stored bytes: the time counts their decode (which
	// checks each hash) and the fold (ApplyDecoded), as the projector does.
	stored := make([][]byte, len(evs))
	for i, e := range evs {
		if stored[i], err = e.Encode(); err != nil {
			s.Close()
			return err
		}
	}
	t0 := time.Now()
	if err := decodeAndApply(ctx, s.Store, evs, stored); err != nil {
		s.Close()
		return err
	}
	elapsed := time.Since(t0)
	if err := s.Close(); err != nil {
		return err
	}
	raw, err := rawInsertRate(filepath.Join(dir, "raw.db"), len(evs))
	if err != nil {
		return err
	}
	r.ProjectionEventsPerS = float64(len(evs)) / elapsed.Seconds()
	r.RawInsertEventsPerS = raw
	r.ProjectionRatio = r.ProjectionEventsPerS / raw
	return nil
}

// decodeAndApply decodes stored (the bytes of evs) and applies them 1000
// events a transaction.
func decodeAndApply(ctx context.Context, s *readmodel.Store, evs []events.Event, stored [][]byte) error {
	batch := make([]events.Event, 0, 1000)
	for j := 0; j < len(stored); j += 1000 {
		batch = batch[:0]
		for i := j; i < min(j+1000, len(stored)); i++ {
			e, err := events.Decode(stored[i])
			if err != nil {
				return err
			}
			e.StreamSeq = evs[i].StreamSeq
			batch = append(batch, e)
		}
		if err := s.ApplyDecoded(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

func rawInsertRate(file string, n int) (float64, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE ev (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, hash TEXT NOT NULL) STRICT`,
		`CREATE TABLE ent (id TEXT PRIMARY KEY, donor TEXT NOT NULL, amount INTEGER NOT NULL) STRICT`,
		`CREATE TABLE post (seq INTEGER NOT NULL, leg INTEGER NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (seq, leg)) STRICT`,
	} {
		if _, err := db.Exec(q); err != nil {
			return 0, err
		}
	}
	t0 := time.Now()
	for j := 0; j < n; j += 1000 {
		tx, err := db.Begin()
		if err != nil {
			return 0, err
		}
		for k := j; k < min(j+1000, n); k++ {
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO ev VALUES (?, ?, ?, ?)`, []any{k, fmt.Sprint("id-", k), "contribution_received", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
				{`INSERT INTO ent VALUES (?, ?, ?)`, []any{fmt.Sprint("e-", k), "d-0", 10000}},
				{`INSERT INTO post VALUES (?, 0, 'trust:cash', 10000), (?, 1, 'trust:unallocated', -10000)`, []any{k, k}},
			} {
				if _, err := tx.Exec(q.sql, q.args...); err != nil {
					tx.Rollback()
					return 0, err
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}
