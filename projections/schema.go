package projections

// migrations is the ordered list of schema changes. migrations[i] brings the
// schema from version i to version i+1. Entries are only ever appended: a
// read model written by an older projector is migrated forward on Open, and
// Verify compares files of the same version only.
var migrations = []string{
	// 1: the log index, the checkpoint, the entities of the first event
	// types and the postings.
	`
CREATE TABLE checkpoint (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	stream_seq INTEGER NOT NULL CHECK (stream_seq >= 0)
) STRICT;
INSERT INTO checkpoint (id, stream_seq) VALUES (1, 0);

CREATE TABLE fund_heads (
	fund       TEXT PRIMARY KEY,
	fund_seq   INTEGER NOT NULL CHECK (fund_seq > 0),
	chain_head TEXT NOT NULL,
	stream_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	stream_seq   INTEGER NOT NULL UNIQUE,
	id           TEXT NOT NULL UNIQUE,
	type         TEXT NOT NULL,
	v            INTEGER NOT NULL,
	effective_on TEXT NOT NULL,
	recorded_at  TEXT NOT NULL,
	actor        TEXT NOT NULL,
	command_id   TEXT NOT NULL,
	command_hash TEXT NOT NULL,
	prev_hash    TEXT NOT NULL,
	hash         TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX events_command ON events (fund, command_id);

CREATE TABLE terms (
	fund         TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	starts_on    TEXT NOT NULL,
	ends_on      TEXT NOT NULL,
	target_minor INTEGER NOT NULL,
	fee_rate     TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	PRIMARY KEY (fund, term_id)
) STRICT;

CREATE TABLE donors (
	fund     TEXT NOT NULL,
	donor_id TEXT NOT NULL,
	name     TEXT NOT NULL,
	kind     TEXT NOT NULL,
	country  TEXT NOT NULL,
	city     TEXT NOT NULL,
	fund_seq INTEGER NOT NULL,
	PRIMARY KEY (fund, donor_id)
) STRICT;

CREATE TABLE contributions (
	fund            TEXT NOT NULL,
	contribution_id TEXT NOT NULL,
	donor_id        TEXT NOT NULL,
	term_id         TEXT NOT NULL,
	pledge_id       TEXT NOT NULL,
	amount_minor    INTEGER NOT NULL,
	currency        TEXT NOT NULL,
	usd_rate        TEXT NOT NULL,
	usd_minor       INTEGER NOT NULL,
	received_on     TEXT NOT NULL,
	bank_ref        TEXT NOT NULL,
	fund_seq        INTEGER NOT NULL,
	PRIMARY KEY (fund, contribution_id)
) STRICT;
CREATE INDEX contributions_donor ON contributions (fund, donor_id, term_id);

CREATE TABLE fees (
	fund            TEXT NOT NULL,
	fund_seq        INTEGER NOT NULL,
	contribution_id TEXT NOT NULL,
	donor_id        TEXT NOT NULL,
	term_id         TEXT NOT NULL,
	fee_rate        TEXT NOT NULL,
	amount_minor    INTEGER NOT NULL,
	effective_on    TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX fees_contribution ON fees (fund, contribution_id);

CREATE TABLE budget_lines (
	fund         TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	title        TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	cluster_id   TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	PRIMARY KEY (fund, line_id)
) STRICT;

CREATE TABLE allocations (
	fund          TEXT NOT NULL,
	allocation_id TEXT NOT NULL,
	line_id       TEXT NOT NULL,
	term_id       TEXT NOT NULL,
	amount_minor  INTEGER NOT NULL,
	note          TEXT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('proposed', 'approved')),
	proposed_by   TEXT NOT NULL,
	proposed_on   TEXT NOT NULL,
	proposed_seq  INTEGER NOT NULL,
	approved_by   TEXT NOT NULL DEFAULT '',
	approved_on   TEXT NOT NULL DEFAULT '',
	approved_seq  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (fund, allocation_id)
) STRICT;
CREATE INDEX allocations_line ON allocations (fund, line_id);

CREATE TABLE expenditures (
	fund           TEXT NOT NULL,
	expenditure_id TEXT NOT NULL,
	allocation_id  TEXT NOT NULL,
	line_id        TEXT NOT NULL,
	term_id        TEXT NOT NULL,
	amount_minor   INTEGER NOT NULL,
	currency       TEXT NOT NULL,
	usd_rate       TEXT NOT NULL,
	usd_minor      INTEGER NOT NULL,
	spent_on       TEXT NOT NULL,
	payee          TEXT NOT NULL,
	description    TEXT NOT NULL,
	country        TEXT NOT NULL,
	city           TEXT NOT NULL,
	fund_seq       INTEGER NOT NULL,
	PRIMARY KEY (fund, expenditure_id)
) STRICT;
CREATE INDEX expenditures_allocation ON expenditures (fund, allocation_id);

-- One row per leg of an event; debits positive, credits negative. The legs
-- of one (fund, fund_seq) sum to zero.
CREATE TABLE postings (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	leg          INTEGER NOT NULL,
	event_type   TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	effective_on TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq, leg)
) STRICT;
-- The balance query: one fund and term, by date, by what the ledger knew.
-- It covers every column the query reads.
CREATE INDEX postings_balance ON postings (fund, term_id, effective_on, fund_seq, account, event_type, amount_minor);
-- Trial balance and statements across terms.
CREATE INDEX postings_account ON postings (fund, account, effective_on);
`,
}
