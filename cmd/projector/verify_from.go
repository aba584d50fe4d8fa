package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/projections/iatireport"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// validateFrom checks the flags of verify --from: the export alone, so
// none of --data, --nats or --db.
func (c *config) validateFrom() error {
	switch {
	case c.cmd != "verify":
		return fmt.Errorf("%s: --from is for verify", c.cmd)
	case c.dataDir != "" || c.natsURL != "":
		return errors.New("verify: --from verifies an export without NATS: it excludes --data and --nats")
	case c.db != "":
		return errors.New("verify: --from builds its own scratch read model: it excludes --db")
	case c.asOf != "" && !projections.ValidDate(c.asOf):
		return fmt.Errorf("verify: --as-of %q is not a date YYYY-MM-DD", c.asOf)
	}
	if c.scratch == "" {
		c.scratch = os.TempDir()
	}
	return nil
}

// verifyFrom is verify --from FILE: it re-verifies the hash chain of every
// fund of an NDJSON export (every event's canonical bytes and hash, and its
// link to the one before), rebuilds the read model from the file alone into
// a scratch file under --scratch (removed afterwards), and computes every
// report of every fund and term from it, as of --as-of (default the
// latest effective date in the file, so that every event counts). It
// prints a summary and exits 0 only when all of that succeeds; a line
// altered, dropped or reordered exits 1 naming the line, fund and
// fund_seq.
func verifyFrom(ctx context.Context, c config, stdout io.Writer, logger *slog.Logger) int {
	f, err := os.Open(c.from)
	if err != nil {
		logger.Error("verify --from", "err", err)
		return ExitFailure
	}
	defer f.Close()
	dir, err := os.MkdirTemp(c.scratch, "verify-from-*")
	if err != nil {
		logger.Error("verify --from: scratch folder", "err", err)
		return ExitFailure
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "replay.db")

	sum, err := audit.RebuildFromReader(ctx, bufio.NewReaderSize(f, 1<<20), db)
	var ee *readmodel.EventError
	if errors.As(err, &ee) {
		fmt.Fprintf(stdout, "verify --from FAILED: %s line %d: fund %s fund_seq %d: %v\n", c.from, ee.StreamSeq, ee.Fund, ee.FundSeq, ee.Err)
		return ExitFailure
	}
	if err != nil {
		logger.Error("verify --from", "err", err)
		return ExitFailure
	}
	if sum.Events == 0 {
		fmt.Fprintf(stdout, "verify --from FAILED: %s holds no event\n", c.from)
		return ExitFailure
	}
	funds := make([]string, 0, len(sum.Funds))
	for fund := range sum.Funds {
		funds = append(funds, fund)
	}
	slices.Sort(funds)
	fmt.Fprintf(stdout, "chain ok: %d events of %d fund(s) in %s, every hash recomputed and linked\n", sum.Events, len(funds), c.from)
	for _, fund := range funds {
		h := sum.Funds[fund]
		fmt.Fprintf(stdout, "  fund %s: fund_seq %d, chain head %s\n", fund, h.FundSeq, h.ChainHead)
	}

	s, err := projections.Open(db)
	if err != nil {
		logger.Error("verify --from: open the rebuilt read model", "err", err)
		return ExitFailure
	}
	defer s.Close()
	asOf := c.asOf
	if asOf == "" {
		asOf = sum.MaxEffectiveOn
	}
	if asOf < sum.MinEffectiveOn {
		// Every report would answer no_data_as_of: a mistaken flag, not
		// books that fail to verify (issue 8).
		fmt.Fprintf(stdout, "verify --from: --as-of %s is before the first event of the file (effective %s): there is nothing to report then\n", asOf, sum.MinEffectiveOn)
		return ExitUsage
	}
	fmt.Fprintf(stdout, "read model rebuilt from the file alone; reports as of %s (effective dates):\n", asOf)
	failed := 0
	for _, fund := range funds {
		for _, line := range fundReports(ctx, s, fund, asOf) {
			if line.err != nil {
				failed++
				fmt.Fprintf(stdout, "  FAILED fund %s %s: %v\n", fund, line.what, line.err)
				continue
			}
			fmt.Fprintf(stdout, "  fund %s %s: %s\n", fund, line.what, line.text)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "verify --from FAILED: %d report(s) could not be computed from %s\n", failed, c.from)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "verify --from ok: %s re-verified and every report computed from it\n", c.from)
	return ExitOK
}

// reportLine is one report computed by verify --from: what, and a summary
// or the error.
type reportLine struct {
	what, text string
	err        error
}

// fundReports computes every report of one fund as of asOf: the trial
// balance, the IATI activity and organisation files, and for each term its
// balance and budget against actual.
func fundReports(ctx context.Context, s *projections.Store, fund, asOf string) []reportLine {
	var out []reportLine
	add := func(what string, text string, err error) { out = append(out, reportLine{what, text, err}) }

	tb, err := s.TrialBalanceReport(ctx, fund, asOf, 0)
	add("trial balance", fmt.Sprintf("%d accounts, debits %s = credits %s", len(tb.Accounts), tb.TotalDebit, tb.TotalCredit), err)

	terms, err := s.TermIDs(ctx, fund)
	if err != nil {
		add("terms", "", err)
		return out
	}
	for _, term := range terms {
		bu, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: asOf})
		var qe *errs.Error
		if errors.As(err, &qe) && qe.Code == projections.CodeNoDataAsOf {
			// A term that had not started by asOf has no report then.
			add("term "+term, "no report: its first event is after "+asOf, nil)
			continue
		}
		b, berr := s.Balance(ctx, projections.BalanceQuery{Fund: fund, Term: term, AsOf: asOf})
		add("term "+term+" balance", fmt.Sprintf("received %s, spent %s, trust balance %s = unallocated %s + allocated unspent %s",
			b.Received, b.Spent, b.TrustBalance, b.Unallocated, b.AllocatedUnspent), berr)
		rate := "none"
		if bu.Totals.DeliveryRate != nil {
			rate = *bu.Totals.DeliveryRate + " %"
		}
		add("term "+term+" budget", fmt.Sprintf("%d lines, %d clusters, budget %s, allocated %s, spent %s, delivery rate %s",
			len(bu.Lines), len(bu.Clusters), bu.Totals.Budget, bu.Totals.Allocated, bu.Totals.Spent, rate), err)
		fo, err := s.Focus(ctx, projections.FocusQuery{Fund: fund, Term: term, AsOf: asOf})
		add("term "+term+" focus", fmt.Sprintf("spent %s, in Africa %s, in low-income countries %s (%s)",
			fo.Totals.Spent, fo.Totals.Africa, fo.Totals.LowIncome, fo.IncomeGroupFY), err)
		out = append(out, donorStatements(ctx, s, fund, term, asOf)...)
	}

	acts, err := iatireport.Activities(ctx, s, iatireport.Query{Fund: fund, AsOf: asOf})
	var doc []byte
	if err == nil {
		doc, err = acts.Render()
	}
	n := 0
	for _, a := range acts.Activities {
		n += len(a.Transactions)
	}
	add("IATI activities", fmt.Sprintf("%d activities, %d transactions, %d bytes", len(acts.Activities), n, len(doc)), err)
	org, err := iatireport.Organisation(ctx, s, iatireport.Query{Fund: fund, AsOf: asOf})
	doc = nil
	if err == nil {
		doc, err = org.Render()
	}
	add("IATI organisation", fmt.Sprintf("%d yearly budgets, %d bytes", len(org.Organisation.TotalBudgets), len(doc)), err)
	return out
}

// donorStatements makes the accountability statement of every donor with
// money in the term, in every format, as a donor would ask for it.
func donorStatements(ctx context.Context, s *projections.Store, fund, term, asOf string) []reportLine {
	what := "term " + term + " statements"
	at, err := donors.Attribute(ctx, s, donors.AttributionQuery{Fund: fund, Term: term, AsOf: asOf})
	if err != nil {
		return []reportLine{{what, "", err}}
	}
	for _, d := range at.Donors {
		st, err := donors.Statement(ctx, s, donors.StatementQuery{Fund: fund, Donor: d.DonorID, Term: term, AsOf: asOf})
		if err == nil {
			_, err = statement.JSON(st)
		}
		if err == nil {
			_, err = statement.CSV(st)
		}
		if err == nil {
			_, err = statement.HTML(st)
		}
		if err == nil {
			_, err = statement.PDF(st)
		}
		if err != nil {
			return []reportLine{{what, "donor " + d.DonorID, err}}
		}
	}
	return []reportLine{{what, fmt.Sprintf("%d donors, each in json, csv, html and pdf", len(at.Donors)), nil}}
}
