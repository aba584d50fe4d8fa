package eventlog

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedOptions configures the NATS server ledgerd runs in its own process.
type EmbeddedOptions struct {
	// StoreDir holds the JetStream file store (the server adds /jetstream).
	StoreDir string
	// Listen is host:port for other processes to reach the server; empty
	// means no listener at all, only in-process connections.
	Listen string
	// Configure, when set, changes the server's options before it starts:
	// the daemon adds the credentials and TLS its listener requires.
	Configure func(*server.Options) error
}

// StartEmbedded starts a NATS server with JetStream on disk that fsyncs
// every write before it acknowledges it (SyncAlways): an acknowledged event
// survives kill -9 and power loss.
func StartEmbedded(o EmbeddedOptions) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "mdfm-ledger",
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
		DontListen: o.Listen == "",
	}
	if o.Listen != "" {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("nats listen address %q: %w", o.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("nats listen port %q: %w", port, err)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	if o.Configure != nil {
		if err := o.Configure(opts); err != nil {
			return nil, err
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("nats server in %s not ready after 30s", o.StoreDir)
	}
	return ns, nil
}

// ConnectEmbedded connects to an embedded server in process, without a socket.
// opts add to it (the credentials a server that requires them asks for).
func ConnectEmbedded(ns *server.Server, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect("", append([]nats.Option{nats.InProcessServer(ns), nats.Name("mdfm-ledger")}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	return nc, nil
}
