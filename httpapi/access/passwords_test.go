package access

import (
	"strings"
	"testing"
)

// TestPasswords: a password line beside token lines parses (old files are
// token lines only and stay valid); the password signs in as its role and
// nothing else does; SetPasswordLine replaces a user's line and keeps the
// rest.
func TestPasswords(t *testing.T) {
	olu, err := PasswordLine("olu", Role{Name: RoleOfficer}, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	file := "# users\nolu officer " + HashToken("tok-olu") + "\nkim auditor " + HashToken("tok-kim") + "\n"
	file, err = SetPasswordLine(file, "olu", olu)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := ParseTokens(strings.NewReader(file))
	if err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	if tk.Len() != 2 {
		t.Errorf("%d tokens, want 2: a password is not a token", tk.Len())
	}
	if p, ok := tk.Lookup("tok-olu"); !ok || p.User != "olu" {
		t.Errorf("olu's token: %+v %v", p, ok)
	}
	p, hash, ok := tk.CheckPassword("olu", "correct horse battery")
	if !ok || p != (Principal{User: "olu", Role: Role{Name: RoleOfficer}}) || !strings.HasPrefix(hash, "$2") {
		t.Fatalf("CheckPassword = %+v %q %v", p, hash, ok)
	}
	for _, c := range []struct{ user, pw string }{{"olu", "wrong"}, {"kim", "correct horse battery"}, {"nobody", "x"}, {"olu", ""}} {
		if _, _, ok := tk.CheckPassword(c.user, c.pw); ok {
			t.Errorf("CheckPassword(%q, %q) accepted", c.user, c.pw)
		}
	}
	if _, ok := tk.Lookup(strings.Fields(olu)[2]); ok {
		t.Error("a password hash works as a bearer token")
	}
	if !tk.PasswordStill("olu", hash, Role{Name: RoleOfficer}) || tk.PasswordStill("olu", hash, Role{Name: RoleAdmin}) {
		t.Error("PasswordStill")
	}

	// A new password replaces the line; the old one no longer signs in.
	olu2, err := PasswordLine("olu", Role{Name: RoleOfficer}, "another long password")
	if err != nil {
		t.Fatal(err)
	}
	file2, err := SetPasswordLine(file, "olu", olu2)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(file2, "\n") != strings.Count(file, "\n") || !strings.HasPrefix(file2, "# users\n") {
		t.Errorf("SetPasswordLine changed other lines:\n%s", file2)
	}
	tk2, err := ParseTokens(strings.NewReader(file2))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := tk2.CheckPassword("olu", "correct horse battery"); ok {
		t.Error("the old password still signs in")
	}
	if tk2.PasswordStill("olu", hash, Role{Name: RoleOfficer}) {
		t.Error("a session of the old password would go on")
	}

	// Refusals.
	if _, err := ParseTokens(strings.NewReader(olu + "\n" + olu2 + "\n")); err == nil {
		t.Error("two passwords of one user parsed")
	}
	if _, err := ParseTokens(strings.NewReader("olu officer $2a$10$short\n")); err == nil {
		t.Error("a malformed bcrypt hash parsed")
	}
	if _, err := PasswordLine("olu", Role{Name: RoleOfficer}, "short"); err != ErrPasswordLength {
		t.Errorf("a short password: %v", err)
	}
	if _, err := PasswordLine("olu", Role{Name: RoleOfficer}, strings.Repeat("x", MaxPasswordLen+1)); err != ErrPasswordLength {
		t.Errorf("a password longer than bcrypt reads: %v", err)
	}
}
