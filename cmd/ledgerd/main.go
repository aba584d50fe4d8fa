// Command ledgerd runs the ledger on one machine: an embedded NATS server
// with JetStream on disk (or an existing server with --nats), the writer of
// one fund, an in-process projector into SQLite and the HTTP API.
//
//	ledgerd [--data DIR] [--http ADDR] [--tokens FILE] [--demo] …
//	ledgerd token --user U --role R [--tokens FILE]
//	ledgerd backup --url http://HOST:PORT --token T --to DIR
//	ledgerd restore --from DIR --data NEWDIR
//	ledgerd user passwd --user U --tokens FILE
//	ledgerd keygen --name NAME --out FILE
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(os.Args) > 1 && os.Args[1] == "keygen" {
		if err := RunKeygen(os.Args[2:], os.Stdout, os.Stderr); err != nil {
			exit(err)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "token" {
		if err := RunToken(os.Args[2:], os.Stdout, os.Stderr); err != nil {
			exit(err)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "user" {
		if err := RunUser(os.Args[2:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			exit(err)
		}
		return
	}
	if len(os.Args) > 1 && (os.Args[1] == "backup" || os.Args[1] == "restore") {
		run := RunBackup
		if os.Args[1] == "restore" {
			run = RunRestore
		}
		if err := run(ctx, os.Args[2:], os.Stdout, os.Stderr); err != nil {
			exit(err)
		}
		return
	}
	// SIGHUP reloads the tokens file (a refused file is logged, the old
	// tokens kept). It is caught before the daemon starts: a SIGHUP that
	// came between "listening" and here would otherwise end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		exit(err)
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		exit(err)
	}
	go func() {
		for range hup {
			m.ReloadTokens()
		}
	}()
	<-ctx.Done()
	stop() // a second signal kills at once
	if err := m.Close(); err != nil {
		exit(err)
	}
}

func exit(err error) {
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "ledgerd:", err)
	os.Exit(1)
}
