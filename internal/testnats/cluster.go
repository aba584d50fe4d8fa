package testnats

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is n NATS servers with JetStream, each in its own temporary
// folder, routed to each other on loopback in one process.
type Cluster struct {
	t       testing.TB
	Servers []*server.Server // Servers[i] is named n<i+1>
	opts    []func(clientPort int) *server.Options
}

// freePort asks the kernel for a free loopback port and releases it.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartCluster starts n servers named n1…nn in the cluster "mdfm", each
// routed to all others, and waits until every route is up and JetStream has
// a meta leader that sees all n peers. It fails the test, with what it saw, if the cluster does
// not form within 30 seconds. The servers are shut down when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	routePorts := make([]int, n)
	for i := range routePorts {
		routePorts[i] = freePort(t)
	}
	c := &Cluster{t: t}
	for i := range n {
		c.opts = append(c.opts, nodeOptions(i, routePorts, t.TempDir()))
		c.Servers = append(c.Servers, c.start(c.opts[i](server.RANDOM_PORT)))
	}
	for _, ns := range c.Servers {
		if !ns.ReadyForConnections(20 * time.Second) {
			t.Fatalf("cluster: server %s not ready for connections after 20s (route port taken?)", ns.Name())
		}
	}
	deadline := time.Now().Add(90 * time.Second) // generous: a loaded machine forms a cluster slowly
	c.waitRoutes(n, deadline)
	c.waitMetaLeader(deadline)
	// Streams are placed only on peers the meta leader has heard from:
	// creating an R3 stream before that answers 10005 (no suitable peers).
	for !c.metaReady(n) {
		if time.Now().After(deadline) {
			t.Fatalf("cluster: the JetStream meta leader does not see %d current peers after 30s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// nodeOptions returns the options of server i (named n<i+1>) of the
// cluster on a client port: its route port is routePorts[i], its routes
// the others'.
func nodeOptions(i int, routePorts []int, storeDir string) func(clientPort int) *server.Options {
	var routes []string
	for j, p := range routePorts {
		if j != i {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
	}
	return func(clientPort int) *server.Options {
		return &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPort,
			JetStream:  true,
			StoreDir:   storeDir,
			SyncAlways: true,
			NoSigs:     true,
			NoLog:      true,
			Cluster: server.ClusterOpts{
				Name: "mdfm",
				Host: "127.0.0.1",
				Port: routePorts[i],
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
		}
	}
}

// waitRoutes waits until every server has a route to each of the n-1
// others.
func (c *Cluster) waitRoutes(n int, deadline time.Time) {
	c.t.Helper()
	for _, ns := range c.Servers {
		for ns.NumRoutes() < n-1 {
			if time.Now().After(deadline) {
				c.t.Fatalf("cluster did not form: server %s has %d routes after 30s, want %d", ns.Name(), ns.NumRoutes(), n-1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// waitMetaLeader waits until a JetStream meta leader answers account info
// from every server.
func (c *Cluster) waitMetaLeader(deadline time.Time) {
	c.t.Helper()
	for _, ns := range c.Servers {
		nc := Connect(c.t, ns)
		js, err := jetstream.New(nc)
		if err != nil {
			c.t.Fatal(err)
		}
		var lastErr error
		for {
			ctx, cancel := context.WithTimeout(c.t.Context(), time.Second)
			_, lastErr = js.AccountInfo(ctx)
			cancel()
			if lastErr == nil {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("cluster formed routes but JetStream has no meta leader seen from %s after 30s: %v", ns.Name(), lastErr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		nc.Close()
	}
}

// metaReady reports whether a meta leader sees n peers with JetStream and
// every server's meta log is current.
func (c *Cluster) metaReady(n int) bool {
	leader := false
	for _, ns := range c.Servers {
		if !ns.JetStreamIsCurrent() {
			return false
		}
		if ns.JetStreamIsLeader() {
			leader = len(ns.JetStreamClusterPeers()) == n
		}
	}
	return leader
}

func (c *Cluster) start(opts *server.Options) *server.Server {
	c.t.Helper()
	ns, err := server.NewServer(opts)
	if err != nil {
		c.t.Fatalf("cluster: new server %s: %v", opts.ServerName, err)
	}
	go ns.Start()
	c.t.Cleanup(ns.Shutdown)
	return ns
}

// Restart starts again the server named name, which was shut down, on its
// store, route port and client port, and waits until it accepts clients.
func (c *Cluster) Restart(name string) *server.Server {
	c.t.Helper()
	for i, ns := range c.Servers {
		if ns.Name() != name {
			continue
		}
		u, err := url.Parse(ns.ClientURL())
		if err != nil {
			c.t.Fatal(err)
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			c.t.Fatal(err)
		}
		ns.WaitForShutdown()
		ns = c.start(c.opts[i](port))
		if !ns.ReadyForConnections(20 * time.Second) {
			c.t.Fatalf("cluster: restarted server %s not ready after 20s", name)
		}
		c.Servers[i] = ns
		return ns
	}
	c.t.Fatalf("cluster: no server %s", name)
	return nil
}

// Server returns the server named name (n1…), or nil.
func (c *Cluster) Server(name string) *server.Server {
	for _, ns := range c.Servers {
		if ns.Name() == name {
			return ns
		}
	}
	return nil
}

// ConnectFailover connects to first and, when it is lost, to any other
// server of the cluster, without a limit on reconnects. The connection is
// closed when the test ends.
func (c *Cluster) ConnectFailover(first *server.Server) *nats.Conn {
	c.t.Helper()
	urls := []string{first.ClientURL()}
	for _, ns := range c.Servers {
		if ns != first {
			urls = append(urls, ns.ClientURL())
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","),
		nats.DontRandomize(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond),
	)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}
