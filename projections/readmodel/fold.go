package readmodel

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// readFold is how one event type folds into the read model. fold writes
// the event's rows; unfold, for a type a reversal undoes, marks them
// reversed. Each is declared in the type's own file, type_<name>.go, and
// every entry of events.Types has one (TestReadFoldsComplete); see
// docs/DESIGN.md, "How to add an event type and a command". An insert that
// hits an existing key or an update that finds no row means the log
// contradicts itself: the domain would never have decided such an event.
type readFold struct {
	payload func(p events.Payload) bool // whether p is the type's payload
	fold    func(ctx context.Context, a *applier, e events.Event, p events.Payload) error
	// unfold marks the rows of the event at fund_seq rseq reversed by r;
	// what names the change in errors.
	unfold func(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error
}

// unfoldFunc is readFold.unfold.
type unfoldFunc = func(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error

// foldOf makes the readFold of payload type P; the payload it receives was
// made by events.Types for the fold's name, so the conversion cannot fail.
func foldOf[P events.Payload](fold func(context.Context, *applier, events.Event, P) error, unfold unfoldFunc) readFold {
	return readFold{
		payload: func(p events.Payload) bool { _, ok := p.(P); return ok },
		fold: func(ctx context.Context, a *applier, e events.Event, p events.Payload) error {
			return fold(ctx, a, e, p.(P))
		},
		unfold: unfold,
	}
}

// readFolds holds a readFold per event type name. Each type's file,
// type_<name>.go, adds its fold with addFold, in a package variable's
// initialiser, so that every fold is in place before a batch is applied.
var readFolds = map[string]readFold{}

// addFold registers the fold of event type name. A name given twice is a
// programming error.
func addFold(name string, f readFold) readFold {
	if _, ok := readFolds[name]; ok {
		panic("readmodel: two folds for event type " + name)
	}
	readFolds[name] = f
	return f
}

// applyPayload writes the entity rows of one event by its type's readFold.
func (a *applier) applyPayload(ctx context.Context, e events.Event, p events.Payload) error {
	f, ok := readFolds[e.Type]
	if !ok {
		return fmt.Errorf("%w: %s (upgrade the projector and rebuild the read model)", ErrUnknownEventType, e.Type)
	}
	return f.fold(ctx, a, e, p)
}

// written wraps the error of writing an event's rows: the log contradicts
// itself (a key used before, a row missing).
func written(e events.Event, err error) error {
	if err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrInconsistent, e.Type, err)
	}
	return nil
}

// unfoldRow returns the unfold of an event with a row of its own in table,
// keyed by fund_seq: the row gets reversed_by.
func unfoldRow(table string) unfoldFunc {
	query := unfoldRowQuery(table)
	return func(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error {
		return a.execOne(ctx, what, query, r.ReversalID, e.Fund, rseq)
	}
}

func unfoldRowQuery(table string) string {
	return `UPDATE ` + table + ` SET reversed_by = ? WHERE fund = ? AND fund_seq = ? AND reversed_by = ''`
}

// checkParticipation checks that the cluster, city and term of an
// appointment or membership are known.
func (a *applier) checkParticipation(ctx context.Context, fund, cluster, city, term string) error {
	var n int64
	err := a.tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM clusters WHERE fund = ?1 AND cluster_id = ?2) +
		(SELECT count(*) FROM cities WHERE fund = ?1 AND city_id = ?3) +
		(SELECT count(*) FROM terms WHERE fund = ?1 AND term_id = ?4)`, fund, cluster, city, term).Scan(&n)
	if err != nil {
		return fmt.Errorf("read registry: %w", err)
	}
	if n != 3 {
		return fmt.Errorf("%w: cluster %s, city %s or term %s unknown", ErrInconsistent, cluster, city, term)
	}
	return nil
}
