package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

// RunToken is `ledgerd token --user U --role R [--tokens FILE]`: it makes a
// new random token and prints it on the first line of stdout and its
// tokens-file line on the second. With --tokens it also appends the line to
// FILE (created 0600 if missing), after checking that the file with the new
// line still parses. The token itself is shown once and stored nowhere.
func RunToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ledgerd token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the `user` the token acts as (the actor of its events)")
	roleStr := fs.String("role", "", "officer, approver, auditor, admin or donor:<id>")
	file := fs.String("tokens", "", "append the line to this tokens `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	}
	if *user == "" {
		return errors.New("token --user: required")
	}
	if err := access.CheckUser(*user); err != nil {
		return fmt.Errorf("token --user: %w", err)
	}
	if *roleStr == "" {
		return errors.New("token --role: required (officer, approver, auditor, admin or donor:<id>)")
	}
	role, err := access.ParseRole(*roleStr)
	if err != nil {
		return fmt.Errorf("token --role: %w", err)
	}
	tok, err := access.NewToken()
	if err != nil {
		return err
	}
	line := access.TokenLine(*user, role, tok)
	if *file != "" {
		if err := appendTokenLine(*file, line); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, tok)
	fmt.Fprintln(stdout, line)
	if *file != "" {
		fmt.Fprintf(stderr, "appended the line to %s; the token above is shown only once\n", *file)
	}
	return nil
}

// appendTokenLine appends line to the tokens file at path, refusing when the
// result would not parse (a malformed file, or the same hash twice).
func appendTokenLine(path, line string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read tokens file: %w", err)
	}
	add := line + "\n"
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		add = "\n" + add
	}
	if _, err := access.ParseTokens(bytes.NewReader(append(old, add...))); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open tokens file: %w", err)
	}
	if _, err := f.WriteString(add); err != nil {
		f.Close()
		return fmt.Errorf("append to tokens file: %w", err)
	}
	return f.Close()
}
