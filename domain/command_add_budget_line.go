package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// AddBudgetLine adds a line to a term's budget.
type AddBudgetLine struct {
	Meta
	ID        string     `json:"id"`
	TermID    string     `json:"term_id"`
	Title     string     `json:"title"`
	Amount    MoneyInput `json:"amount"`
	ClusterID string     `json:"cluster_id"`
}

func (c *AddBudgetLine) decide(s *State) ([]events.Event, error) { return addBudgetLine(s, c) }

func addBudgetLine(s *State, c *AddBudgetLine) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Lines[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "budget line %s already exists", c.ID)
	}
	t, err := term(s, "term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	if err := checkText("title", c.Title, true); err != nil {
		return nil, err
	}
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if c.ClusterID != "" {
		if err := checkID("cluster_id", c.ClusterID); err != nil {
			return nil, err
		}
		if s.Clusters[c.ClusterID] == nil {
			return nil, refuse(CodeUnknownCluster, "cluster_id", "no cluster %s is registered: register it before its lines", c.ClusterID)
		}
	}
	if t.Closed {
		return nil, refuse(CodeTermClosed, "term_id", "term %s was closed on %s: its budget is final", t.ID, t.ClosedOn)
	}
	// A line is part of the term's budget from the term's first day.
	return build(t.StartsOn, &events.BudgetLineAdded{LineID: c.ID, TermID: t.ID, Title: c.Title, Amount: money.USDAmount(amount), ClusterID: c.ClusterID})
}
