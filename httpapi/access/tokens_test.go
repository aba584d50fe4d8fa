package access

import (
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	good := map[string]Role{
		"officer":         {Name: RoleOfficer},
		"approver":        {Name: RoleApprover},
		"auditor":         {Name: RoleAuditor},
		"admin":           {Name: RoleAdmin},
		"donor:osaka":     {Name: RoleDonor, DonorID: "osaka"},
		"donor:demo-city": {Name: RoleDonor, DonorID: "demo-city"},
	}
	for s, want := range good {
		got, err := ParseRole(s)
		if err != nil || got != want {
			t.Errorf("ParseRole(%q) = %+v, %v; want %+v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("ParseRole(%q).String() = %q", s, got.String())
		}
	}
	for _, s := range []string{"", "clerk", "Officer", "donor", "donor:", "officer:x", "admin:", "donor:a b", "donor:-x", "donor:" + strings.Repeat("a", 65)} {
		if r, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) = %+v, want an error", s, r)
		}
	}
}

func TestParseTokensGood(t *testing.T) {
	file := "# users of the ledger\n\n" +
		"ana approver " + HashToken("tok-ana") + "\n" +
		"   olu   officer   " + HashToken("tok-olu") + "   # the officer\n" +
		"olu admin " + strings.ToUpper(HashToken("tok-olu-admin")) + "\n" + // upper-case hex is accepted
		"dana donor:osaka " + HashToken("tok-dana") // no final newline
	toks, err := ParseTokens(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if toks.Len() != 4 {
		t.Fatalf("%d tokens, want 4", toks.Len())
	}
	for tok, want := range map[string]Principal{
		"tok-ana":       {"ana", Role{Name: RoleApprover}},
		"tok-olu":       {"olu", Role{Name: RoleOfficer}},
		"tok-olu-admin": {"olu", Role{Name: RoleAdmin}},
		"tok-dana":      {"dana", Role{Name: RoleDonor, DonorID: "osaka"}},
	} {
		got, ok := toks.Lookup(tok)
		if !ok || got != want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", tok, got, ok, want)
		}
	}
	for _, bad := range []string{"", "tok", "tok-ana ", HashToken("tok-ana"), strings.Repeat("x", MaxTokenLen+1)} {
		if p, ok := toks.Lookup(bad); ok {
			t.Errorf("Lookup(%q) = %+v, want no match", bad, p)
		}
	}
	var none *Tokens
	if _, ok := none.Lookup("tok-ana"); ok {
		t.Error("a nil token set accepted a token")
	}
}

func TestParseTokensMalformed(t *testing.T) {
	h := HashToken("x")
	for _, c := range []struct {
		name, file, want string
	}{
		{"two fields", "ana approver\n", "line 1"},
		{"four fields", "# c\nana approver " + h + " extra\n", "line 2"},
		{"unknown role", "\n\nana clerk " + h + "\n", "line 3"},
		{"donor without id", "dana donor " + h, "line 1"},
		{"id on officer", "olu officer:x " + h, "line 1"},
		{"short hash", "ana approver " + h[:63], "line 1"},
		{"not hex", "ana approver " + strings.Repeat("g", 64), "line 1"},
		{"the token, not its hash", "ana approver tok-ana", "line 1"},
		{"bad user", "a/b approver " + h, "line 1"},
		{"long user", strings.Repeat("u", MaxUserLen+1) + " approver " + h, "line 1"},
		{"same hash twice", "ana approver " + h + "\nolu officer " + h + "\n", "line 2"},
		{"line too long", "ana approver " + h + "\n" + strings.Repeat("#", MaxTokensFileLine+1) + "\n", "line 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTokens(strings.NewReader(c.file))
			if err == nil {
				t.Fatal("parsed, want an error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name %s", err, c.want)
			}
		})
	}
}

func TestNewTokenAndLine(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken()
	if a == b || len(a) != 43 {
		t.Errorf("tokens %q and %q: want two different 43-character tokens", a, b)
	}
	line := TokenLine("kim", Role{Name: RoleAuditor}, a)
	toks := &Tokens{}
	if err := toks.AddLine(line); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	if p, ok := toks.Lookup(a); !ok || p.User != "kim" || p.Role.Name != RoleAuditor {
		t.Errorf("Lookup after AddLine(%q) = %+v, %v", line, p, ok)
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add("ana approver " + HashToken("x") + "\n# c\n")
	f.Add("dana donor:osaka " + HashToken("y"))
	f.Fuzz(func(t *testing.T, file string) {
		toks, err := ParseTokens(strings.NewReader(file))
		if err != nil {
			return
		}
		for _, e := range toks.entries {
			if CheckUser(e.User) != nil {
				t.Errorf("accepted user %q", e.User)
			}
			if _, err := ParseRole(e.Role.String()); err != nil {
				t.Errorf("accepted role %+v", e.Role)
			}
		}
	})
}
