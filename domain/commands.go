package domain

import "github.com/unesco-uil/mdfm-ledger/events"

// Meta is what every command carries besides its body: who asks and the
// server's date, so that Decide needs no clock.
type Meta struct {
	Actor string `json:"-"`
	Today string `json:"-"` // YYYY-MM-DD, UTC
	// Role is the actor's role as the HTTP edge knows it ("officer",
	// "approver", "admin", …). Decide uses it for one rule only: a closed
	// term takes reversals from an approver (or admin) alone (rule 6). Every
	// other role check is the edge's.
	Role string `json:"-"`
}

// Roles that Decide knows of (see Meta.Role).
const (
	RoleApprover = "approver"
	RoleAdmin    = "admin"
)

// Command is a request to change the fund. Its exported fields are the JSON
// body of its endpoint; every value is a string so that Decide, not the JSON
// decoder, judges amounts, rates and dates and answers with a stable code.
// Every command is listed in Commands (a test walks the source for types
// with a decide method) and has a write route in httpapi (a test there
// walks Commands).
type Command interface {
	meta() *Meta
	// decide judges the command against s (see Decide).
	decide(s *State) ([]events.Event, error)
}

// SetMeta sets the actor and date of a command.
func SetMeta(c Command, m Meta) { *c.meta() = m }

// MoneyInput is money as the API receives it: {"amount": "50000.00", "currency": "EUR"}.
type MoneyInput struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// Batch is several commands decided as one: all are accepted, each against
// the state the ones before it leave, or none is (see DecideBatch). The
// batch's Meta is given to every command of it.
type Batch struct {
	Meta
	Commands []Command `json:"-"`
}

func (c *Meta) meta() *Meta { return c }

// MetaOf returns the actor and date of a command.
func MetaOf(c Command) Meta { return *c.meta() }

// Commands returns an empty value of every command but Batch, which holds
// the others: the list the HTTP edge's routes are checked against.
func Commands() []Command {
	return []Command{
		&OpenTerm{}, &RegisterDonor{}, &AmendDonor{}, &RecordContribution{}, &AddBudgetLine{},
		&ProposeAllocation{}, &ApproveAllocation{}, &RecordExpenditure{}, &RecordPledge{}, &AmendPledge{},
		&CancelPledge{}, &RecordInterest{}, &RecordRefund{}, &ReverseEvent{}, &CloseTerm{},
		&RegisterCity{}, &RegisterCluster{}, &AppointCoordinator{}, &JoinCluster{},
	}
}

// Each command is declared in its own file, command_<name>.go (RecordInterest
// in command_record_interest.go), with its decide method and the function
// that decides it; TestCommandsComplete checks it. A batch decides the
// commands it holds (batch.go).

func (c *Batch) decide(s *State) ([]events.Event, error) { return decideBatchCommand(s, c) }
