// Command ledgerbench measures the ledger against the raw engines beneath
// it, in one process and one run (issue 10):
//
//  1. durable appends through the writer vs raw atomic-batch publishes;
//  2. single commands over HTTP with 1, 16 and 64 clients;
//  3. projection into SQLite vs raw batched inserts of the same rows;
//  4. a large log: ledgerd start-up, projector rebuild and verify, their
//     time and peak memory;
//  5. report latency on that log.
//
// It prints a table, or with --json one JSON object. The machine is shared
// and noisy: read the ratios. It is never a pass/fail test.
//
//	go run ./cmd/ledgerbench [--events N] [--json] [--keep DIR]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
