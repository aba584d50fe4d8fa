package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

func TestTokenCommand(t *testing.T) {
	var out, errs bytes.Buffer
	if err := RunToken([]string{"--user", "kim", "--role", "auditor"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q: want the token and its line", out.String())
	}
	tok, line := lines[0], lines[1]
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Errorf("token %q: want 32 random bytes in base64url", tok)
	}
	if want := "kim auditor " + access.HashToken(tok); line != want {
		t.Errorf("line %q, want %q", line, want)
	}
	toks, err := access.ParseTokens(strings.NewReader(line))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := toks.Lookup(tok); !ok || p.User != "kim" || p.Role.Name != access.RoleAuditor {
		t.Errorf("the printed line does not accept the printed token: %+v %v", p, ok)
	}

	// --tokens appends to the file, adding the newline its last line lacks.
	file := filepath.Join(t.TempDir(), "tokens.txt")
	first := "ana approver " + access.HashToken("tok-ana")
	if err := os.WriteFile(file, []byte("# users\n"+first), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := RunToken([]string{"--user", "dana", "--role", "donor:osaka", "--tokens", file}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(out.String()), "\n")
	b, _ := os.ReadFile(file)
	if want := "# users\n" + first + "\n" + lines[1] + "\n"; string(b) != want {
		t.Errorf("tokens file:\n%s\nwant:\n%s", b, want)
	}
	toks, err = access.LoadTokens(file)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := toks.Lookup(lines[0]); !ok || p.Role.DonorID != "osaka" {
		t.Errorf("appended token: %+v %v", p, ok)
	}
	// A new file is made.
	newFile := filepath.Join(t.TempDir(), "new.txt")
	if err := RunToken([]string{"--user", "olu", "--role", "officer", "--tokens", newFile}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(newFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new tokens file: %v %v", st, err)
	}

	for _, args := range [][]string{
		{"--role", "officer"},
		{"--user", "olu"},
		{"--user", "olu", "--role", "clerk"},
		{"--user", "olu", "--role", "donor"},
		{"--user", "olu", "--role", "officer:x"},
		{"--user", "o l u", "--role", "officer"},
		{"--user", "olu", "--role", "officer", "extra"},
		{"--user", "olu", "--role", "officer", "--bogus"},
	} {
		out.Reset()
		if err := RunToken(args, &out, &errs); err == nil || out.Len() != 0 {
			t.Errorf("token %q: err %v, output %q; want an error and no token", args, err, out.String())
		}
	}
	// A malformed tokens file is not appended to.
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("ana clerk "+access.HashToken("x")+"\n"), 0o600)
	if err := RunToken([]string{"--user", "olu", "--role", "officer", "--tokens", bad}, &out, &errs); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("appending to a malformed file: %v", err)
	}
}

func TestFlagsValidate(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--data", "", "--tokens", "t"}, "--data"},
		{[]string{"--tokens", "t", "--http", "8080"}, "--http"},
		{[]string{"--tokens", "t", "--http", "127.0.0.1:99999"}, "--http"},
		{[]string{"--tokens", "t", "--fund", "MDFM"}, "--fund"},
		{[]string{"--tokens", "t", "--fund", "a.b"}, "--fund"},
		{[]string{"--tokens", "t", "--stream", "MD.FM"}, "--stream"},
		{[]string{"--tokens", "t", "--replicas", "0"}, "--replicas"},
		{[]string{"--tokens", "t", "--replicas", "7"}, "--replicas"},
		{[]string{"--tokens", "t", "--nats-listen", "nowhere"}, "--nats-listen"},
		{[]string{"--tokens", "t", "--nats", "nats://127.0.0.1:4222", "--nats-listen", "127.0.0.1:4222"}, "--nats-listen"},
		{[]string{"--tokens", "t", "--nats-creds", "c.creds"}, "--nats-creds"},
		{[]string{"--tokens", "t", "--nats-tls-ca", "ca.pem"}, "--nats-tls-ca"},
		{[]string{"--tokens", "t", "--nats-tls-cert", "c.pem"}, "--nats-tls-cert"},
		{[]string{"--tokens", "t", "--log-format", "xml"}, "--log-format"},
		{[]string{}, "--tokens"},
		{[]string{"--tokens", "t", "serve"}, "serve"},
	} {
		m := NewMain()
		m.Stderr = &bytes.Buffer{}
		err := m.ParseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("ParseFlags(%q) = %v, want an error naming %s", c.args, err, c.flag)
		}
	}
	m := NewMain()
	if err := m.ParseFlags([]string{"--demo"}); err != nil {
		t.Errorf("--demo alone: %v", err)
	}
	want := Config{DataDir: "./data", HTTPAddr: "127.0.0.1:8080", Fund: "mdfm", Stream: "MDFM", Replicas: 1, Demo: true, LogFormat: "text"}
	if m.Config != want {
		t.Errorf("defaults %+v, want %+v", m.Config, want)
	}

	// A malformed tokens file stops the daemon before it starts, naming the line.
	file := filepath.Join(t.TempDir(), "tokens.txt")
	os.WriteFile(file, []byte("# ok\nana approver "+access.HashToken("a")+"\nolu officer nothex\n"), 0o600)
	m = NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tokens", file}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(t.Context())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("Run with a malformed tokens file: %v, want an error naming line 3", err)
	}
}
