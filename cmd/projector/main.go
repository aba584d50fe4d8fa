// Command projector builds and checks the ledger's SQLite read models apart
// from ledgerd:
//
//	projector run     --nats URL | --data DIR  --db FILE   follow the stream until SIGINT/SIGTERM
//	projector rebuild --nats URL | --data DIR  --db FILE   replay from the first event into a new file
//	projector verify  --nats URL | --data DIR  --db FILE   recompute the chain, compare with a replay
//	projector export  --nats URL | --data DIR  [--out FILE] the log as NDJSON, the stored bytes
//	projector verify  --from FILE [--as-of DATE]          the chain and every report from an export alone
//	projector verify-proof --vkey FILE --bundle FILE       a donor's proof bundle, offline
//	projector verify-consistency --vkey FILE --old FILE --new FILE --proof FILE
//	                                                       that a later checkpoint extends an earlier one
//	projector tree-root --from FILE [--vkey FILE --checkpoint FILE]  a fund's tree from an export
//
// --data opens the JetStream store of a stopped ledgerd in DIR with an
// embedded server; --nats uses a running server. See Main.
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
