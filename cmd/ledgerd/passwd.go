package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"golang.org/x/term"
)

// RunUser is `ledgerd user passwd --user U --tokens FILE [--role R]`: it
// sets the web app password of U in the tokens file, as a bcrypt hash on
// the line `U <role> <hash>` (replacing U's earlier password line). The
// role is U's tokens' unless --role says it. The password is asked twice on
// a terminal, or read as the first line of standard input. A running
// ledgerd reads the file again: U's sessions end.
func RunUser(args []string, stdin *os.File, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "passwd" {
		return errors.New("user: want `ledgerd user passwd --user U --tokens FILE`")
	}
	fs := flag.NewFlagSet("ledgerd user passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the `user` whose password to set")
	file := fs.String("tokens", "", "the tokens `file` of ledgerd --tokens")
	roleStr := fs.String("role", "", "the role the password signs in as; the user's tokens' by default")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user passwd: unexpected argument %q", fs.Arg(0))
	}
	if *user == "" || *file == "" {
		return errors.New("user passwd: --user and --tokens are required")
	}
	if err := access.CheckUser(*user); err != nil {
		return fmt.Errorf("user passwd --user: %w", err)
	}
	old, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("read tokens file: %w", err)
	}
	tokens, err := access.ParseTokens(bytes.NewReader(old))
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	var role access.Role
	if *roleStr != "" {
		if role, err = access.ParseRole(*roleStr); err != nil {
			return fmt.Errorf("user passwd --role: %w", err)
		}
	} else if role, err = tokens.RoleOf(*user); err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	line, err := access.PasswordLine(*user, role, password)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	text, err := access.SetPasswordLine(string(old), *user, line)
	if err != nil {
		return err
	}
	if _, err := access.ParseTokens(strings.NewReader(text)); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	// Write beside and rename: a crash leaves the old file or the new one.
	tmp := *file + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write tokens file: %w", err)
	}
	if err := os.Rename(tmp, *file); err != nil {
		return fmt.Errorf("replace tokens file: %w", err)
	}
	fmt.Fprintf(stdout, "password of %s (%s) set in %s\n", *user, role, *file)
	return nil
}

// readPassword asks twice on a terminal; otherwise it reads the first line
// of stdin.
func readPassword(stdin *os.File, stderr io.Writer) (string, error) {
	fd := int(stdin.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprint(stderr, "New password: ")
		a, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if !bytes.Equal(a, b) {
			return "", errors.New("user passwd: the two passwords differ; nothing changed")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
