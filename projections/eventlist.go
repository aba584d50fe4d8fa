package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// EventFilter selects a page of one fund's events for the audit log's list
// (GET /v1/events with a filter). An empty field filters nothing. From and
// To bound effective_on, inclusive. Donor and Line match the events that
// concern them (events.SubjectOf): a donor's registration, amendments,
// pledges and their changes, receipts, fees and refunds; a line's budget
// line, allocations, approvals and expenditures; and the reversals of
// these. Expenditures and carry-overs are the donors' pro rata only and
// concern no one donor.
//
// The page is keyset: the first Limit events after fund_seq After, or with
// Before set, the last Limit events before it; in both cases in the fund's
// order.
type EventFilter struct {
	Fund, Type, From, To, Actor, Donor, Line string
	After, Before                            uint64
	Limit                                    int
}

// EventRef is an event of a list: its fund_seq and where the log stores it.
type EventRef struct{ FundSeq, StreamSeq uint64 }

// ListEvents returns the events f selects. Each filter has an index in the
// fund's order (by donor, line, type or actor), so a page reads the rows it
// shows and those of its index it skips, never the history before After.
// Errors are *errs.Error (unknown_fund) or an infrastructure error.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]EventRef, error) {
	v, err := s.OpenView(ctx, "events", f.Fund, 0)
	if err != nil {
		return nil, err
	}
	defer v.Tx.Rollback()
	q, args := eventListQuery(f)
	rows, err := v.Tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	out := []EventRef{}
	for rows.Next() {
		var fs, ss int64
		if err := rows.Scan(&fs, &ss); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		out = append(out, EventRef{uint64(fs), uint64(ss)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if f.Before != 0 {
		slices.Reverse(out)
	}
	return out, nil
}

// eventListQuery builds the SQL of ListEvents. With a donor or line filter
// the walk starts from event_subjects (its partial indexes need the
// explicit != ”), else from events.
func eventListQuery(f EventFilter) (string, []any) {
	seq := "e.fund_seq"
	from := "events e"
	where := []string{"e.fund = ?"}
	args := []any{f.Fund}
	if f.Donor != "" || f.Line != "" {
		seq = "s.fund_seq"
		from = "event_subjects s JOIN events e ON e.fund = s.fund AND e.fund_seq = s.fund_seq"
		where = []string{"s.fund = ?"}
	}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Donor != "" {
		add("s.donor_id = ? AND s.donor_id != ''", f.Donor)
	}
	if f.Line != "" {
		add("s.line_id = ? AND s.line_id != ''", f.Line)
	}
	if f.Type != "" {
		add("e.type = ?", f.Type)
	}
	if f.Actor != "" {
		add("e.actor = ?", f.Actor)
	}
	if f.From != "" {
		add("e.effective_on >= ?", f.From)
	}
	if f.To != "" {
		add("e.effective_on <= ?", f.To)
	}
	order := "ASC"
	if f.Before != 0 {
		add(seq+" < ?", int64(f.Before))
		order = "DESC"
	} else {
		add(seq+" > ?", int64(f.After))
	}
	args = append(args, f.Limit)
	return fmt.Sprintf("SELECT e.fund_seq, e.stream_seq FROM %s WHERE %s ORDER BY %s %s LIMIT ?",
		from, strings.Join(where, " AND "), seq, order), args
}
