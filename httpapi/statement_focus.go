package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// Formats of the donor statement and their Content-Type.
var statementFormats = map[string]string{
	"json": "application/json",
	"csv":  "text/csv; charset=utf-8",
	"html": "text/html; charset=utf-8",
	"pdf":  "application/pdf",
}

// donorStatement answers GET /v1/donors/{id}/statement?fund=&term=&as_of=&at_seq=&format=&receipts_page=
// with the donor's accountability statement (projections.Store.Statement)
// in format json (the default), csv, html or pdf, listing the page
// receipts_page of the donor's receipts (statement.ReceiptsPage a page,
// 0 the latest; the rest added up as unlisted): at the end of as_of
// (default today), from what the ledger knew at at_seq (default
// everything), stamped with the fund_seq and chain head (in the document
// and in X-Fund-Seq and X-Chain-Head) and, as made at, the recorded time of
// the event at that fund_seq: the same question gives the same bytes. The
// PDF is an attachment named
// mdfm-statement-<donor>-<term>-<as_of>.pdf. A donor:<id> token reads its
// own statement only (403 forbidden otherwise). An as_of before the term's
// first entry, or before the donor's registration and first entry, answers
// 422 no_data_as_of.
func (s *Server) donorStatement(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	donor := r.PathValue("id")
	if p.Role.Name == access.RoleDonor && p.Role.DonorID != donor {
		return errorf(CodeForbidden, "", fmt.Sprintf("role %s reads its own statement only, not donor %q's", p.Role, trunc(donor)))
	}
	rq, q, err := s.readReportQuery(r, "fund", "term", "as_of", "at_seq", "format", "receipts_page")
	if err != nil {
		return err
	}
	page, herr := uintParam(q, "receipts_page", 0, 0, 1<<40)
	if herr != nil {
		return herr
	}
	format := q["format"]
	if format == "" {
		format = "json"
	}
	contentType, ok := statementFormats[format]
	if !ok {
		return errorf(CodeInvalidQuery, "format", fmt.Sprintf("format %q is not json, csv, html or pdf", trunc(format)))
	}
	st, err := s.statements.Statement(r.Context(), s.cfg.Store, donors.StatementQuery{Fund: rq.fund, Donor: donor, Term: rq.term, AsOf: rq.asOf, AtSeq: rq.atSeq,
		ReceiptsPage: int64(page)})
	if err != nil {
		return statementError(err)
	}
	if err := s.statementCheckpoint(r.Context(), &st); err != nil {
		return err
	}
	var doc []byte
	switch format {
	case "json":
		doc, err = statement.JSON(st)
	case "csv":
		doc, err = statement.CSV(st)
	case "html":
		doc, err = statement.HTML(st)
	case "pdf":
		doc, err = statement.PDF(st)
	}
	if err != nil {
		return fmt.Errorf("render %s statement of donor %s: %w", format, donor, err)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Fund-Seq", strconv.FormatUint(st.FundSeq, 10))
	h.Set("X-Chain-Head", st.ChainHead)
	h.Set("X-As-Of", st.AsOf)
	h.Set("X-Date-Axis", projections.DateAxisEffective)
	if format == "pdf" {
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, StatementFilename(st)))
	}
	w.WriteHeader(http.StatusOK)
	// A failed write means the client went away.
	w.Write(doc)
	return nil
}

// StatementFilename names a statement's PDF:
// mdfm-statement-<donor>-<term>-<as_of>.pdf, with any character but
// letters, digits, '.', '_' and '-' made '-'.
func StatementFilename(st statement.Statement) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				return r
			}
			return '-'
		}, s)
	}
	return "mdfm-statement-" + clean(st.Donor.ID) + "-" + clean(st.Term.ID) + "-" + st.AsOf + ".pdf"
}

// focusReport answers GET /v1/reports/focus?fund=&term=&as_of=&at_seq= with
// projections.Store.Focus: the term's spending that reached cities in
// UNESCO's Africa region and in low-income countries (World Bank, FY2026),
// as amounts and shares of all spending, per line, per cluster and in
// total, at the end of as_of (default today), from what the ledger knew at
// at_seq (default everything), stamped with the fund_seq, chain head, date
// axis and classification. An as_of before the term's first event answers
// 422 no_data_as_of.
func (s *Server) focusReport(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	rq, _, err := s.readReportQuery(r, "fund", "term", "as_of", "at_seq")
	if err != nil {
		return err
	}
	rep, err := s.cfg.Store.Focus(r.Context(), projections.FocusQuery{Fund: rq.fund, Term: rq.term, AsOf: rq.asOf, AtSeq: rq.atSeq})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// statementError is a statement's error as the API answers it: a statement
// longer than statement.MaxRows rows in a list is refused with
// report_too_large naming the limit, not answered 500 (issue 10).
func statementError(err error) error {
	var ie *statement.InvalidError
	if errors.As(err, &ie) && ie.OverLimit {
		return errorf(CodeReportTooLarge, "as_of", fmt.Sprintf("the statement would hold too much: %s has %s. Ask for an earlier as_of", ie.Field, ie.Message))
	}
	return err
}
