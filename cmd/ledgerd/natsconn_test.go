package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// natsSecrets are the files of a NATS set-up that requires an nkey and
// mutual TLS: a CA, a server and a client certificate signed by it, and the
// ledger's nkey seed.
type natsSecrets struct {
	dir                                  string
	ca, serverCert, serverKey, cert, key string
	seed, nkeyPub                        string
}

func makeNATSSecrets(t *testing.T) natsSecrets {
	t.Helper()
	s := natsSecrets{dir: t.TempDir()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	s.ca = s.writePEM(t, "ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(k)
		return s.writePEM(t, name+".pem", "CERTIFICATE", der), s.writePEM(t, name+"-key.pem", "EC PRIVATE KEY", kb)
	}
	s.serverCert, s.serverKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	s.cert, s.key = leaf("ledgerd", 3, x509.ExtKeyUsageClientAuth)
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	s.nkeyPub, _ = kp.PublicKey()
	s.seed = filepath.Join(s.dir, "ledgerd.nk")
	if err := os.WriteFile(s.seed, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s natsSecrets) writePEM(t *testing.T, name, typ string, der []byte) string {
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNATSCredentialsAndTLS: against a server that requires the ledger's
// nkey and a client certificate signed by its CA, ledgerd connects with
// the right flags and writes; without the nkey, without the client
// certificate, or with a wrong seed, it stops at start-up saying so.
func TestNATSCredentialsAndTLS(t *testing.T) {
	sec := makeNATSSecrets(t)
	ns := testnats.StartWith(t, func(o *server.Options) error {
		o.Nkeys = []*server.NkeyUser{{Nkey: sec.nkeyPub}}
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: sec.serverCert, KeyFile: sec.serverKey, CaFile: sec.ca, Verify: true})
		if err != nil {
			return err
		}
		o.TLSConfig, o.TLSVerify, o.TLS = tc, true, true
		return nil
	})
	url := strings.Replace(ns.ClientURL(), "nats://", "tls://", 1)
	tlsFlags := []string{"--nats-tls-ca", sec.ca, "--nats-tls-cert", sec.cert, "--nats-tls-key", sec.key}

	otherKP, _ := nkeys.CreateUser()
	otherSeed, _ := otherKP.Seed()
	wrongSeed := filepath.Join(sec.dir, "other.nk")
	os.WriteFile(wrongSeed, otherSeed, 0o600)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no credentials", tlsFlags, "authorization violation"},
		{"another nkey", append([]string{"--nats-creds", wrongSeed}, tlsFlags...), "authorization violation"},
		{"no client certificate", []string{"--nats-creds", sec.seed, "--nats-tls-ca", sec.ca}, "connect to nats"},
	} {
		m := NewMain()
		m.Stdout, m.Stderr = &syncBuffer{}, &syncBuffer{}
		if err := m.ParseFlags(append([]string{"--http", "127.0.0.1:0", "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats", url}, c.args...)); err != nil {
			t.Fatal(err)
		}
		err := m.Run(t.Context())
		m.Close()
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), c.want) || !strings.Contains(err.Error(), "--nats-creds") {
			t.Errorf("%s: start-up error %v, want one saying %q and naming the flags", c.name, err, c.want)
		}
	}

	d := startDaemon(t, fixedNow, append([]string{"--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats", url, "--nats-creds", sec.seed}, tlsFlags...)...)
	d.post(t, 201, "/v1/terms", "tok-ana", "", termBody)
}

// TestEmbeddedListenerRequiresCredentials: the embedded server listens on no
// port by default; with --nats-listen and --nats-creds (an nkey seed) and
// --nats-tls-*, a client needs that nkey and a certificate of the CA.
func TestEmbeddedListenerRequiresCredentials(t *testing.T) {
	d := startScenarioDaemon(t)
	if d.m.ns.ClientURL() != "" && d.m.ns.Addr() != nil {
		t.Errorf("the embedded server listens on %v without --nats-listen", d.m.ns.Addr())
	}

	sec := makeNATSSecrets(t)
	d = startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats-listen", "127.0.0.1:0",
		"--nats-creds", sec.seed, "--nats-tls-ca", sec.ca, "--nats-tls-cert", sec.serverCert, "--nats-tls-key", sec.serverKey)
	d.post(t, 201, "/v1/terms", "tok-ana", "", termBody)
	url := strings.Replace(d.m.ns.ClientURL(), "nats://", "tls://", 1)
	if nc, err := nats.Connect(url, nats.RootCAs(sec.ca), nats.ClientCert(sec.cert, sec.key)); err == nil {
		nc.Close()
		t.Error("a client without the nkey connected")
	}
	nkey, _ := nats.NkeyOptionFromSeed(sec.seed)
	if nc, err := nats.Connect(url, nkey, nats.RootCAs(sec.ca)); err == nil {
		nc.Close()
		t.Error("a client without a certificate connected")
	}
	nc, err := nats.Connect(url, nkey, nats.RootCAs(sec.ca), nats.ClientCert(sec.cert, sec.key))
	if err != nil {
		t.Fatalf("a client with the nkey and a certificate: %v", err)
	}
	defer nc.Close()
}

var termBody = map[string]any{"id": "2020-2021", "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"}

// TestNATSCredsFile: against a server in operator mode (accounts and users
// as JWTs), ledgerd connects with the user's .creds file and writes; with
// another user's .creds signed by an unknown account it stops at start-up.
func TestNATSCredsFile(t *testing.T) {
	dir := t.TempDir()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	if _, err := oc.Encode(okp); err != nil {
		t.Fatal(err)
	}
	account := func(js bool) (nkeys.KeyPair, string, string) {
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{DiskStorage: -1, MemoryStorage: -1, Streams: -1, Consumer: -1}
		}
		tok, err := ac.Encode(okp)
		if err != nil {
			t.Fatal(err)
		}
		return kp, pub, tok
	}
	_, sysPub, sysJWT := account(false)
	akp, apub, ajwt := account(true)
	creds := func(name string, issuer nkeys.KeyPair) string {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		useed, _ := ukp.Seed()
		ujwt, err := jwt.NewUserClaims(upub).Encode(issuer)
		if err != nil {
			t.Fatal(err)
		}
		b, err := jwt.FormatUserConfig(ujwt, useed)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ledgerCreds := creds("ledgerd.creds", akp)
	strangerKP, _ := nkeys.CreateAccount()
	strangerCreds := creds("stranger.creds", strangerKP)

	ns := testnats.StartWith(t, func(o *server.Options) error {
		r := &server.MemAccResolver{}
		if err := r.Store(apub, ajwt); err != nil {
			return err
		}
		if err := r.Store(sysPub, sysJWT); err != nil {
			return err
		}
		o.TrustedOperators = []*jwt.OperatorClaims{oc}
		o.AccountResolver = r
		o.SystemAccount = sysPub
		return nil
	})
	m := NewMain()
	m.Stdout, m.Stderr = &syncBuffer{}, &syncBuffer{}
	if err := m.ParseFlags([]string{"--http", "127.0.0.1:0", "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats", ns.ClientURL(), "--nats-creds", strangerCreds}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(t.Context())
	m.Close()
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Errorf("a stranger's .creds: %v, want a start-up error saying authorization violation", err)
	}
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats", ns.ClientURL(), "--nats-creds", ledgerCreds)
	d.post(t, 201, "/v1/terms", "tok-ana", "", termBody)
}
