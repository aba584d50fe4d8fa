package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeBudgetLineAdded is the stable name of the type (see Type.Name).
const TypeBudgetLineAdded = "budget_line_added"

var _ = register(Type{Seq: 6, Name: TypeBudgetLineAdded, V: 1, New: newOf[BudgetLineAdded]})

// BudgetLineAdded adds a line to a term's budget.
type BudgetLineAdded struct {
	LineID    string       `json:"line_id"`
	TermID    string       `json:"term_id"`
	Title     string       `json:"title"`
	Amount    money.Amount `json:"amount"` // USD
	ClusterID string       `json:"cluster_id,omitempty"`
}

func (BudgetLineAdded) EventType() string { return TypeBudgetLineAdded }
