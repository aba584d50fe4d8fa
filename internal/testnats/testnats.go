// Package testnats starts real NATS servers with JetStream on disk for tests.
package testnats

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
)

// Start runs an embedded server with JetStream in a temporary folder,
// listening on a random loopback port so that other processes can reach it.
// It is shut down when the test ends.
func Start(t testing.TB) *server.Server {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with the server's options changed by configure
// (credentials or TLS it requires), when not nil.
func StartWith(t testing.TB, configure func(*server.Options) error) *server.Server {
	t.Helper()
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", Configure: configure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// Connect connects to ns and closes the connection when the test ends.
func Connect(t testing.TB, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Log starts a server and opens the ledger's stream on it.
func Log(t testing.TB) (*server.Server, *eventlog.Log) {
	t.Helper()
	ns := Start(t)
	l, err := eventlog.Open(t.Context(), Connect(t, ns), eventlog.DefaultStream, 1)
	if err != nil {
		t.Fatal(err)
	}
	return ns, l
}
