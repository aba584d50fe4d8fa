package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/iatireport"
)

// atSeqParam returns the query's at_seq: a fund_seq, so 1 is the first; 0
// (everything known) when absent.
func atSeqParam(q map[string]string) (uint64, *errs.Error) {
	return uintParam(q, "at_seq", 0, 1, 1<<62)
}

// reportQuery is what every report is asked for: a fund, a term, a date on
// each axis.
type reportQuery struct {
	fund, term, asOf string
	atSeq            uint64
}

// readReportQuery reads the query of a report (the parameters names lists,
// which must include fund, as_of and at_seq) and waits until the read model
// holds every command this server acknowledged, so that a client reads its
// own writes. It also returns the parameters, for a report's own ones.
func (s *Server) readReportQuery(r *http.Request, names ...string) (reportQuery, map[string]string, error) {
	q, herr := queryParams(r, names...)
	if herr != nil {
		return reportQuery{}, nil, herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return reportQuery{}, nil, herr
	}
	asOf, herr := s.asOfParam(q)
	if herr != nil {
		return reportQuery{}, nil, herr
	}
	atSeq, herr := atSeqParam(q)
	if herr != nil {
		return reportQuery{}, nil, herr
	}
	if err := s.readYourWrites(r.Context(), fund); err != nil {
		return reportQuery{}, nil, err
	}
	return reportQuery{fund, q["term"], asOf, atSeq}, q, nil
}

// budgetReport answers GET /v1/reports/budget?fund=&term=&as_of=&at_seq=
// with projections.Store.Budget: per budget line and per cluster the
// budget, allocated, spent, available, allocated-unspent and delivery
// rate, at the end of as_of (default today), from what the ledger knew at
// at_seq (default everything), stamped with the fund_seq and chain head.
// An as_of before the term's first event answers 422 no_data_as_of.
func (s *Server) budgetReport(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	rq, _, err := s.readReportQuery(r, "fund", "term", "as_of", "at_seq")
	if err != nil {
		return err
	}
	rep, err := s.cfg.Store.Budget(r.Context(), projections.BudgetQuery{Fund: rq.fund, Term: rq.term, AsOf: rq.asOf, AtSeq: rq.atSeq})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// iatiQuery reads the query of the IATI endpoints; the organisation file
// takes no term.
func (s *Server) iatiQuery(r *http.Request, withTerm bool) (iatireport.Query, error) {
	names := []string{"fund", "as_of", "at_seq"}
	if withTerm {
		names = append(names, "term")
	}
	rq, _, err := s.readReportQuery(r, names...)
	if err != nil {
		return iatireport.Query{}, err
	}
	return iatireport.Query{Fund: rq.fund, Term: rq.term, AsOf: rq.asOf, AtSeq: rq.atSeq}, nil
}

// writeXML answers an IATI file. The stamp is in the file (an XML comment)
// and in headers, for clients that do not parse the file.
func writeXML(w http.ResponseWriter, st iatireport.Stamp, doc []byte) error {
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Fund-Seq", strconv.FormatUint(st.FundSeq, 10))
	h.Set("X-Chain-Head", st.ChainHead)
	h.Set("X-As-Of", st.AsOf)
	h.Set("X-Date-Axis", st.DateAxis)
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
	return nil
}

// iatiActivities answers GET /v1/iati/activities.xml?fund=&term=&as_of=&at_seq=
// with the IATI 2.03 activity file (iatireport.Activities): the
// term as one iati-activity, or without term every term started by as_of.
func (s *Server) iatiActivities(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, err := s.iatiQuery(r, true)
	if err != nil {
		return err
	}
	rep, err := iatireport.Activities(r.Context(), s.cfg.Store, q)
	if err != nil {
		return iatiRenderError("iati activities", err) // a term over the limit is refused before it is read
	}
	doc, err := rep.Render()
	if err != nil {
		return iatiRenderError("iati activities", err)
	}
	return writeXML(w, rep.Stamp, doc)
}

// iatiOrganisation answers GET /v1/iati/organisation.xml?fund=&as_of=&at_seq=
// with the IATI 2.03 organisation file of the reporting organisation
// (iatireport.Organisation).
func (s *Server) iatiOrganisation(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, err := s.iatiQuery(r, false)
	if err != nil {
		return err
	}
	rep, err := iatireport.Organisation(r.Context(), s.cfg.Store, q)
	if err != nil {
		return err
	}
	doc, err := rep.Render()
	if err != nil {
		return iatiRenderError("iati organisation", err)
	}
	return writeXML(w, rep.Stamp, doc)
}

// iatiRenderError is a build's or a render's error as the API answers it:
// input over a limit of the IATI file (more than iati.MaxTransactions
// transactions in a term) is refused with report_too_large naming the
// limit, not answered 500 (issue 10); anything else is answered as it is
// (wrapped: a refusal of the build stays one, a render's other errors are
// faults of the server).
func iatiRenderError(what string, err error) error {
	var ie *iati.InputError
	if errors.As(err, &ie) && ie.OverLimit {
		return errorf(CodeReportTooLarge, "as_of", fmt.Sprintf("the IATI file would hold too much: %s at %s. Ask for an earlier as_of; IATI files of one term are not split", ie.Message, ie.Field))
	}
	return fmt.Errorf("%s: %w", what, err)
}
