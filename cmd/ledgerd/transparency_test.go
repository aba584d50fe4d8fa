package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/statement"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

// keygen runs `ledgerd keygen` into a temporary folder and returns the
// signing key's path and the verifier key.
func keygen(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.key")
	var out, errs bytes.Buffer
	if err := RunKeygen([]string{"--name", "example.org/mdfm-test", "--out", path}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v %v", st, err)
	}
	vkey := strings.TrimSpace(out.String())
	if !strings.HasPrefix(vkey, "example.org/mdfm-test+") {
		t.Fatalf("keygen printed %q, want the verifier key", vkey)
	}
	// A second keygen never overwrites a key.
	if err := RunKeygen([]string{"--name", "x", "--out", path}, &out, &errs); err == nil {
		t.Error("keygen overwrote an existing key file")
	}
	return path, vkey
}

// TestTransparencyOverHTTP runs the demo with a signing key: every donor's
// bundle verifies offline and its totals are its statement's; a donor
// token reads its own bundle and inclusion proofs only; the statement
// names the checkpoint of its fund_seq; after a write a new checkpoint is
// signed that extends the old one.
func TestTransparencyOverHTTP(t *testing.T) {
	key, vkey := keygen(t)
	data := t.TempDir()
	d := startDaemon(t, nil, "--data", data, "--demo", "--signing-key", key, "--origin", "example.org/mdfm")
	tokens := readDemoTokens(t, filepath.Join(data, DemoTokensFile))
	kim, dana, olu := tokens["kim auditor"], tokens["dana donor:demo-foundation"], tokens["olu officer"]

	first := d.get(t, "/v1/checkpoint", dana, nil)
	if ct := first.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("checkpoint Content-Type %q", ct)
	}
	cp1, err := tlog.OpenCheckpoint(first.body, vkey)
	if err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, first.body)
	}
	last, found, err := d.m.log.LastEvent(t.Context(), "mdfm")
	if err != nil || !found {
		t.Fatal(err)
	}
	if cp1.Origin != "example.org/mdfm" || cp1.Size != last.FundSeq {
		t.Errorf("checkpoint %s size %d, want example.org/mdfm size %d", cp1.Origin, cp1.Size, last.FundSeq)
	}
	if m := string(d.get(t, "/metrics", kim, nil).body); !strings.Contains(m, fmt.Sprintf("mdfm_signed_fund_seq{fund=\"mdfm\"} %d\n", cp1.Size)) {
		t.Errorf("metrics lack mdfm_signed_fund_seq %d", cp1.Size)
	}

	bundles := map[string]tlog.Bundle{}
	for _, donor := range []string{"demo-city", "demo-country", "demo-foundation"} {
		var b tlog.Bundle
		d.get(t, "/v1/donors/"+donor+"/proof?term=2020-2021&as_of=2021-12-31", kim, &b)
		if _, err := tlog.VerifyBundle(b, vkey, "example.org/mdfm"); err != nil {
			t.Errorf("bundle of %s: %v", donor, err)
		}
		if len(b.Events) == 0 || b.Totals.ReceivedUSD == "0.00" {
			t.Errorf("bundle of %s: %d events, totals %+v", donor, len(b.Events), b.Totals)
		}
		bundles[donor] = b
	}
	var own tlog.Bundle
	d.get(t, "/v1/donors/demo-foundation/proof?term=2020-2021&as_of=2021-12-31", dana, &own)

	// A donor token: not another donor's bundle, not an inclusion proof of
	// another donor's event nor of an event of no donor; its own, yes.
	for _, path := range []string{
		"/v1/donors/demo-city/proof?term=2020-2021",
		fmt.Sprintf("/v1/proofs/inclusion?fund_seq=%d", bundles["demo-city"].Events[0].FundSeq),
		"/v1/proofs/inclusion?fund_seq=1", // term_opened
	} {
		a := d.do(t, request{method: "GET", path: path, token: dana})
		if code, _ := a.errorOf(t); a.status != http.StatusForbidden || code != "forbidden" {
			t.Errorf("donor GET %s: %s, want 403 forbidden", path, a)
		}
	}
	var inc struct {
		FundSeq, Size uint64
		Proof         []string
	}
	d.get(t, fmt.Sprintf("/v1/proofs/inclusion?fund_seq=%d&size=%d", own.Events[0].FundSeq, cp1.Size), dana, &inc)
	if strings.Join(inc.Proof, ",") != strings.Join(own.Events[0].Proof, ",") {
		t.Errorf("inclusion proof %v, the bundle's %v", inc.Proof, own.Events[0].Proof)
	}

	// The statement names the checkpoint of its fund_seq.
	var st statement.Statement
	d.get(t, "/v1/donors/demo-foundation/statement?term=2020-2021&as_of=2021-12-31", dana, &st)
	want := &statement.Checkpoint{Origin: "example.org/mdfm", Size: cp1.Size, Root: base64.StdEncoding.EncodeToString(cp1.Hash), KeyName: "example.org/mdfm-test"}
	if st.Checkpoint == nil || *st.Checkpoint != *want {
		t.Errorf("statement names checkpoint %+v, want %+v", st.Checkpoint, want)
	}

	// The donor page of the web app links the bundle and names the checkpoint.
	webDonorProof(t, d, readDemoPasswords(t, filepath.Join(data, DemoPasswordsFile))["dana"], vkey)

	// Refusals, and nothing appended by them.
	before := d.streamLastSeq(t)
	for _, c := range []struct{ path, code string }{
		{"/v1/checkpoint?size=1", "no_checkpoint"},
		{fmt.Sprintf("/v1/proofs/inclusion?fund_seq=%d", cp1.Size+1), "not_in_log"},
		{fmt.Sprintf("/v1/proofs/consistency?from=1&to=%d", cp1.Size+1), "not_in_log"},
		{"/v1/proofs/consistency?from=5&to=4", "invalid_query"},
		{"/v1/proofs/inclusion", "invalid_query"},
		{"/v1/checkpoint?size=x", "invalid_query"},
		{"/v1/checkpoint?size=-1", "invalid_query"},
		{"/v1/checkpoint?size=99999999999999999999", "invalid_query"},
		{"/v1/checkpoint?fund=no-such-fund", "no_checkpoint"},
		{"/v1/proofs/inclusion?fund_seq=abc", "invalid_query"},
		{"/v1/proofs/inclusion?fund_seq=-1", "invalid_query"},
		{"/v1/proofs/inclusion?fund_seq=0", "invalid_query"},
		{"/v1/proofs/inclusion?fund_seq=1&fund_seq=2", "invalid_query"},
		{"/v1/proofs/inclusion?fund_seq=1&size=0", "invalid_query"},
		{"/v1/proofs/inclusion?fund_seq=1&nope=1", "invalid_query"},
		{"/v1/proofs/consistency?from=0&to=1", "invalid_query"},
		{"/v1/proofs/consistency?from=x&to=1", "invalid_query"},
		{"/v1/donors/demo-city/proof?term=no-such-term", "unknown_term"},
		{"/v1/donors/no-such-donor/proof?term=2020-2021", "unknown_donor"},
		{"/v1/donors/demo-city/proof?term=2020-2021&as_of=1999-01-01", "no_data_as_of"},
		{"/v1/donors/demo-city/proof?term=2020-2021&as_of=2021-02-30", "invalid_date"},
	} {
		a := d.do(t, request{method: "GET", path: c.path, token: kim})
		if code, _ := a.errorOf(t); code != c.code {
			t.Errorf("GET %s: %s, want %s", c.path, a, c.code)
		}
	}
	if after := d.streamLastSeq(t); after != before {
		t.Errorf("refused reads moved the stream from %d to %d", before, after)
	}

	// A write: a new checkpoint is signed within a few seconds, and the
	// consistency proof links the two.
	d.post(t, 201, "/v1/donors", olu, "tlog-donor", `{"id":"tlog-d","name":"Transparency Donor","kind":"other","country":"FR"}`)
	var second answer
	deadline := time.Now().Add(30 * time.Second)
	for {
		second = d.get(t, "/v1/checkpoint", kim, nil)
		if !bytes.Equal(second.body, first.body) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cp2, err := tlog.OpenCheckpoint(second.body, vkey)
	if err != nil || cp2.Size != cp1.Size+1 {
		t.Fatalf("checkpoint after a write: size %d (%v), want %d", cp2.Size, err, cp1.Size+1)
	}
	var cons struct {
		From, To uint64
		Proof    []string
	}
	d.get(t, fmt.Sprintf("/v1/proofs/consistency?from=%d&to=%d", cp1.Size, cp2.Size), dana, &cons)
	hashes, err := tlog.DecodeHashes(cons.Proof)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tlog.VerifyConsistency(vkey, vkey, first.body, second.body, hashes); err != nil {
		t.Errorf("consistency %d → %d: %v", cp1.Size, cp2.Size, err)
	}
	// The old checkpoint is still served by its size.
	if old := d.get(t, fmt.Sprintf("/v1/checkpoint?size=%d", cp1.Size), dana, nil); !bytes.Equal(old.body, first.body) {
		t.Errorf("checkpoint of size %d now %q, was %q", cp1.Size, old.body, first.body)
	}
	b, _ := json.Marshal(own)
	if !bytes.Contains(b, []byte(`"format":"`+tlog.BundleFormat+`"`)) {
		t.Errorf("bundle JSON has no format: %.200s", b)
	}
}

var proofLink = regexp.MustCompile(`<a id="proof" href="([^"]+)">proof bundle</a>`)

// webDonorProof signs dana in to the web app, opens her donor page, follows
// its proof bundle link and verifies the bundle.
func webDonorProof(t *testing.T, d *daemon, password, vkey string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(d.url+"/app/signin", url.Values{"user": {"dana"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page := webGet(t, c, d.url+"/app/donors/demo-foundation?term=2020-2021&as_of=2021-12-31")
	m := proofLink.FindSubmatch(page)
	if m == nil || !bytes.Contains(page, []byte(`id="checkpoint"`)) {
		t.Fatalf("the donor page has no proof link or checkpoint:\n%s", page)
	}
	var b tlog.Bundle
	if err := json.Unmarshal(webGet(t, c, d.url+html.UnescapeString(string(m[1]))), &b); err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.VerifyBundle(b, vkey, "example.org/mdfm"); err != nil || b.Donor != "demo-foundation" {
		t.Errorf("the linked bundle of %s: %v", b.Donor, err)
	}
}

func webGet(t *testing.T, c *http.Client, u string) []byte {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%.500s", u, resp.StatusCode, err, b)
	}
	return b
}
