package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// MaxExportLineBytes bounds one line of an NDJSON export: one stored event
// and its newline.
const MaxExportLineBytes = events.MaxEventBytes + 1

// ReplaySummary is what a replay of an export found: how many events,
// where each fund's hash chain ends, and the earliest and latest effective
// dates of any event (before the first there is nothing to report; as of
// the last every event counts).
type ReplaySummary struct {
	Events         uint64
	Funds          map[string]readmodel.FundHead
	MinEffectiveOn string
	MaxEffectiveOn string
}

// ReplayReader applies an NDJSON export of the log (projector export, or
// the stored bytes of GET /v1/events, one event a line) to s, in batches
// of readmodel.MaxBatchEvents, without NATS. Line n is taken as stream seq n: the
// export writes the stream in order from its first message, and the stream
// denies deletes, so it has no gaps.
//
// Every line is checked before its batch is applied: its bytes must be
// canonical with a hash that matches the content (events.Decode), and it
// must link to the previous event of its fund (events.Chain). The first
// line that fails ends the replay with an *readmodel.EventError naming the line (as
// StreamSeq), the fund and the fund_seq, wrapping events.ErrTampered or
// events.ErrBrokenChain; nothing of its batch is applied. An empty line,
// or one longer than MaxExportLineBytes, is an *readmodel.EventError too.
func ReplayReader(ctx context.Context, r io.Reader, s *readmodel.Store) (ReplaySummary, error) {
	sum := ReplaySummary{Funds: map[string]readmodel.FundHead{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxExportLineBytes)
	chains := map[string]*events.Chain{}
	batch := make([]events.Event, 0, readmodel.MaxBatchEvents)
	flush := func() error {
		if err := s.ApplyDecoded(ctx, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	var line uint64
	for sc.Scan() {
		line++
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		b := sc.Bytes()
		e, err := events.Decode(b)
		e.StreamSeq = line
		if len(b) == 0 {
			err = fmt.Errorf("%w: line %d is empty", events.ErrTampered, line)
		}
		if err == nil {
			c, ok := chains[e.Fund]
			if !ok {
				nc := events.NewChain(e.Fund)
				c = &nc
				chains[e.Fund] = c
			}
			err = c.Check(e)
		}
		if err != nil {
			return sum, lineError(e, line, chains, err)
		}
		sum.Events++
		if sum.MinEffectiveOn == "" || e.EffectiveOn < sum.MinEffectiveOn {
			sum.MinEffectiveOn = e.EffectiveOn
		}
		sum.MaxEffectiveOn = max(sum.MaxEffectiveOn, e.EffectiveOn)
		sum.Funds[e.Fund] = readmodel.FundHead{FundSeq: e.FundSeq, ChainHead: e.Hash, StreamSeq: line}
		batch = append(batch, e)
		if len(batch) == readmodel.MaxBatchEvents {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			e := events.Event{StreamSeq: line + 1}
			return sum, lineError(e, line+1, chains, fmt.Errorf("%w: line %d is longer than %d bytes", events.ErrTampered, line+1, MaxExportLineBytes))
		}
		return sum, fmt.Errorf("read export: %w", err)
	}
	if err := flush(); err != nil {
		return sum, err
	}
	return sum, nil
}

// lineError names the event of a failed line. A line too mangled to parse
// has no fund or fund_seq of its own: when the export holds one fund, the
// line is taken to be that fund's next event, which is what it replaced.
func lineError(e events.Event, line uint64, chains map[string]*events.Chain, err error) *readmodel.EventError {
	ee := readmodel.NewEventError(e, err)
	ee.StreamSeq = line
	if ee.Fund == "" && len(chains) == 1 {
		for fund, c := range chains {
			ee.Fund, ee.FundSeq = fund, c.FundSeq+1
		}
	}
	return ee
}

// RebuildFromReader replays an NDJSON export (see ReplayReader) into a new
// read model at path. Like Rebuild it refuses a path that exists and
// removes what it wrote when the replay fails.
func RebuildFromReader(ctx context.Context, r io.Reader, path string) (sum ReplaySummary, err error) {
	if _, err := os.Lstat(path); err == nil {
		return sum, fmt.Errorf("rebuild: %s exists; rebuild writes a new file", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return sum, fmt.Errorf("rebuild: %w", err)
	}
	err = readmodel.RebuildAt(ctx, path, func(s *readmodel.Store) error {
		sum, err = ReplayReader(ctx, r, s)
		return err
	})
	if err != nil {
		return sum, fmt.Errorf("rebuild %s from export: %w", path, err)
	}
	return sum, nil
}
