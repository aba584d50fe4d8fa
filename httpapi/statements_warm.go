package httpapi

import (
	"context"
	"time"
)

// WarmQuiet is how long the read model must go without a new batch before
// KeepStatementsWarm computes the attributions again: while events keep
// coming (a load of commands) it computes nothing, so the statements' warm
// up takes no CPU from the writes.
const WarmQuiet = 250 * time.Millisecond

// KeepStatementsWarm runs until ctx ends: each time the read model has
// applied new events and then been quiet for quiet, it computes at the new
// head the attributions of the terms and dates whose statements were last
// asked for at a head (donors.Memo.Warm), or, until one is asked for,
// the latest term's as of today and as of its last day
// (donors.Memo.ExpectLatestTerm). The first statement after an event, or
// after a start, then finds its term's attribution instead of computing
// it, unless it comes within quiet of the event, or in a stream of them.
func (s *Server) KeepStatementsWarm(ctx context.Context, quiet time.Duration) {
	st := s.cfg.Store
	var seen uint64
	for ctx.Err() == nil {
		cp, err := st.Checkpoint(ctx)
		if err != nil {
			sleep(ctx, quiet)
			continue
		}
		if cp > seen {
			// Changed since the last warm-up: wait for a quiet moment.
			wait, cancel := context.WithTimeout(ctx, quiet)
			err := st.WaitFor(wait, cp+1)
			cancel()
			if err == nil || ctx.Err() != nil {
				continue // another batch came: not quiet yet
			}
			s.WarmStatements(ctx)
			seen = cp
			continue
		}
		st.WaitFor(ctx, seen+1)
	}
}

// WarmStatements computes, at the read model's head, the attributions of
// the terms and dates whose statements were last asked for at a head, or,
// until one is asked for, the latest term's (donors.Memo.ExpectLatestTerm),
// and returns how many it computed. ledgerd calls it once before it
// answers on its port, so that the first statements after a start find
// their term's attribution too, and KeepStatementsWarm after each change.
func (s *Server) WarmStatements(ctx context.Context) int {
	s.statements.ExpectLatestTerm(ctx, s.cfg.Store, s.cfg.Writer.Fund(), s.cfg.Writer.Today())
	return s.statements.Warm(ctx)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
