// Package iatireport draws a fund's IATI 2.03 files from the read model:
// the activity file (one iati-activity per term: its budgets, pledges,
// receipts and expenditures as transactions) and the organisation file of
// the reporting organisation (its total budget per year). Package iati
// renders them; the stamp names the event a published file can be checked
// against.
//
// rows.go reads the read model; activities.go and organisation.go make
// the files' data of what it read.
package iatireport

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// Query asks for a fund's IATI files.
type Query struct {
	Fund string
	// Term is the term of the activity file; empty means every term whose
	// first event is on or before AsOf, one iati-activity each. The
	// organisation file takes no term.
	Term string
	// AsOf is a date, YYYY-MM-DD: transactions dated on or before it, and
	// the activity status then. Required; the caller fills in today.
	AsOf string
	// AtSeq limits the files to what the ledger knew at that fund_seq; 0
	// means everything the read model has.
	AtSeq uint64
}

// Stamp says what an IATI file was computed from. It is written into the
// file as an XML comment after the declaration (see Render), which schema
// validation ignores, so that a published file names the event it can be
// checked against.
type Stamp struct {
	Fund      string
	Term      string // "" for every term, or the organisation file
	AsOf      string
	AtSeq     uint64 // as asked; 0 for none
	DateAxis  string
	FundSeq   uint64
	ChainHead string
	// GeneratedAt is the file's generated-datetime: the recorded time of
	// the event at FundSeq, not the clock of the request, so that asking
	// again with at_seq = FundSeq gives the same bytes.
	GeneratedAt string
}

func (s Stamp) comment() string {
	c := fmt.Sprintf("mdfm-ledger fund=%s", s.Fund)
	if s.Term != "" {
		c += " term=" + s.Term
	}
	c += fmt.Sprintf(" as_of=%s date_axis=%s", s.AsOf, s.DateAxis)
	if s.AtSeq != 0 {
		c += fmt.Sprintf(" at_seq=%d", s.AtSeq)
	}
	c += fmt.Sprintf(" fund_seq=%d chain_head=%s", s.FundSeq, s.ChainHead)
	// "--" may not appear inside an XML comment; ids may hold it.
	return "<!-- " + strings.ReplaceAll(c, "--", "- -") + " -->\n"
}

// stamp inserts the stamp's comment after the XML declaration.
func (s Stamp) stamp(doc []byte) []byte {
	decl, rest, ok := bytes.Cut(doc, []byte("?>\n"))
	if !ok {
		return doc
	}
	out := make([]byte, 0, len(doc)+200)
	out = append(out, decl...)
	out = append(out, "?>\n"...)
	out = append(out, s.comment()...)
	return append(out, rest...)
}

// ActivitiesReport is a fund's activity file as data: one iati.Activity per
// term.
type ActivitiesReport struct {
	Stamp
	Activities []iati.Activity
}

// Render writes the activity file (iati.RenderActivities) with the stamp.
// Its errors wrap iati.ErrInvalidInput when the read model holds data the
// IATI standard cannot carry.
func (r ActivitiesReport) Render() ([]byte, error) {
	doc, err := iati.RenderActivities(r.Activities, r.GeneratedAt)
	if err != nil {
		return nil, fmt.Errorf("iati activities of fund %s: %w", r.Fund, err)
	}
	return r.stamp(doc), nil
}

// OrganisationReport is the organisation file as data.
type OrganisationReport struct {
	Stamp
	Organisation iati.Organisation
}

// Render writes the organisation file (iati.RenderOrganisation) with the
// stamp.
func (r OrganisationReport) Render() ([]byte, error) {
	doc, err := iati.RenderOrganisation(r.Organisation, r.GeneratedAt)
	if err != nil {
		return nil, fmt.Errorf("iati organisation of fund %s: %w", r.Fund, err)
	}
	return r.stamp(doc), nil
}

// errOverflow is a sum beyond int64: no valid log reaches it.
var errOverflow = fmt.Errorf("%w: a sum of postings overflows", projections.ErrInconsistent)
