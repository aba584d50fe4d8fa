package projections_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/projections/iatireport"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

func strPtr(s string) *string { return &s }

// TestDonorAsOfInReports: the statement and the IATI activity file name a
// donor as it stood on their as_of, among the amendments known at their
// at_seq; a rebuilt read model and verify agree with the live one.
func TestDonorAsOfInReports(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	before := ledgertest.MustSubmit(t, w, "interest", "olu", &domain.RecordInterest{ID: "I-1", TermID: ledgertest.Term,
		Amount: ledgertest.USD("10.00"), EarnedOn: "2020-12-31"})
	// hamburg's official name from 2020-06-01; then osaka's kind and name
	// mended from the start, recorded later but dated earlier.
	ledgertest.MustSubmit(t, w, "amend-hamburg", "olu", &domain.AmendDonor{ID: "hamburg",
		Name: strPtr("Free and Hanseatic City of Hamburg"), City: strPtr(""), Reason: "official name", AmendedOn: "2020-06-01"})
	ledgertest.MustSubmit(t, w, "amend-osaka", "olu", &domain.AmendDonor{ID: "osaka",
		Name: strPtr("Osaka City Government"), Kind: strPtr("other"), Reason: "typo at registration", AmendedOn: "2020-01-01"})

	live := openStore(t, "live.db")
	if err := projector.CatchUp(t.Context(), log, live.Store); err != nil {
		t.Fatal(err)
	}
	atBefore := before.Events[len(before.Events)-1].FundSeq
	oldHamburg := statement.Donor{ID: "hamburg", Name: "City of Hamburg", Kind: "member_city", Country: "DE", City: "Hamburg"}
	newHamburg := statement.Donor{ID: "hamburg", Name: "Free and Hanseatic City of Hamburg", Kind: "member_city", Country: "DE"}
	for _, tc := range []struct {
		asOf  string
		atSeq uint64
		want  statement.Donor
	}{
		{"2020-05-31", 0, oldHamburg},
		{"2020-06-01", 0, newHamburg},
		{"2021-12-31", 0, newHamburg},
		{"2021-12-31", atBefore, oldHamburg}, // the amendment was not known yet
	} {
		st, err := donors.Statement(t.Context(), live, donors.StatementQuery{Fund: "mdfm", Donor: "hamburg", Term: ledgertest.Term, AsOf: tc.asOf, AtSeq: tc.atSeq})
		if err != nil {
			t.Fatalf("statement as of %s at_seq %d: %v", tc.asOf, tc.atSeq, err)
		}
		if diff := cmp.Diff(tc.want, st.Donor); diff != "" {
			t.Errorf("statement as of %s at_seq %d: donor (-want +got):\n%s", tc.asOf, tc.atSeq, diff)
		}
	}

	// IATI: participating orgs and the provider orgs of the receipts.
	orgs := func(asOf string, atSeq uint64) map[string]iati.Participant {
		t.Helper()
		r, err := iatireport.Activities(t.Context(), live, iatireport.Query{Fund: "mdfm", Term: ledgertest.Term, AsOf: asOf, AtSeq: atSeq})
		if err != nil {
			t.Fatalf("iati as of %s at_seq %d: %v", asOf, atSeq, err)
		}
		a := r.Activities[0]
		got := map[string]iati.Participant{}
		for _, d := range a.Donors {
			got["donor "+d.Name] = d
		}
		for _, x := range a.Transactions {
			if x.Type == iati.TypeIncomingFunds {
				got[x.Ref] = x.ProviderOrg
			}
		}
		return got
	}
	oldOsaka, newOsaka := iati.Participant{Name: "City of Osaka", Type: "11"}, iati.Participant{Name: "Osaka City Government", Type: "90"}
	oldHH, newHH := iati.Participant{Name: "City of Hamburg", Type: "11"}, iati.Participant{Name: "Free and Hanseatic City of Hamburg", Type: "11"}
	for _, tc := range []struct {
		asOf  string
		atSeq uint64
		want  map[string]iati.Participant
	}{
		{"2020-05-31", 0, map[string]iati.Participant{"donor " + oldHH.Name: oldHH, "c-eur": oldHH}}, // osaka paid on 2020-06-01
		{"2020-12-31", 0, map[string]iati.Participant{"donor " + newOsaka.Name: newOsaka, "donor " + newHH.Name: newHH, "c-eur": newHH, "c-usd": newOsaka}},
		{"2020-12-31", atBefore, map[string]iati.Participant{"donor " + oldOsaka.Name: oldOsaka, "donor " + oldHH.Name: oldHH, "c-eur": oldHH, "c-usd": oldOsaka}},
	} {
		if diff := cmp.Diff(tc.want, orgs(tc.asOf, tc.atSeq)); diff != "" {
			t.Errorf("iati as of %s at_seq %d (-want +got):\n%s", tc.asOf, tc.atSeq, diff)
		}
	}

	// Replay gives the same read model, and verify passes.
	rebuilt := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := projector.Rebuild(t.Context(), log, rebuilt); err != nil {
		t.Fatal(err)
	}
	rs, err := projections.Open(rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if f, err := readmodel.CompareStores(t.Context(), rs.Store, live.Store); err != nil || f != nil {
		t.Fatalf("rebuilt and live differ: %+v, %v", f, err)
	}
	if rep, err := audit.Verify(t.Context(), log, live.Store, t.TempDir()); err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
