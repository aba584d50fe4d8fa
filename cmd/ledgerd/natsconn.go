package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// natsSecurity is what --nats-creds and --nats-tls-* give: the client's
// options, and for the embedded server the user nkey it requires and the
// TLS it serves.
type natsSecurity struct {
	client []nats.Option
	// userNkey is the public key of an nkey seed given as --nats-creds
	// ("" for a JWT .creds file or none).
	userNkey string
	jwt      bool
}

// loadNATSSecurity reads the credentials file (a .creds file with a user JWT
// and its seed, or a file holding an nkey seed) and checks the TLS files.
func loadNATSSecurity(c Config) (natsSecurity, error) {
	var s natsSecurity
	if c.NATSCreds != "" {
		b, err := os.ReadFile(c.NATSCreds)
		if err != nil {
			return s, fmt.Errorf("--nats-creds: %w", err)
		}
		if bytes.Contains(b, []byte("BEGIN NATS USER JWT")) {
			s.jwt = true
			s.client = append(s.client, nats.UserCredentials(c.NATSCreds))
		} else {
			kp, err := nkeys.ParseDecoratedNKey(b)
			if err != nil {
				return s, fmt.Errorf("--nats-creds %s: neither a .creds file nor an nkey seed: %w", c.NATSCreds, err)
			}
			if s.userNkey, err = kp.PublicKey(); err != nil {
				return s, fmt.Errorf("--nats-creds %s: %w", c.NATSCreds, err)
			}
			opt, err := nats.NkeyOptionFromSeed(c.NATSCreds)
			if err != nil {
				return s, fmt.Errorf("--nats-creds %s: %w", c.NATSCreds, err)
			}
			s.client = append(s.client, opt)
		}
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		return s, errors.New("--nats-tls-cert and --nats-tls-key go together")
	}
	if c.NATSURL != "" {
		if c.NATSTLSCA != "" {
			s.client = append(s.client, nats.RootCAs(c.NATSTLSCA))
		}
		if c.NATSTLSCert != "" {
			s.client = append(s.client, nats.ClientCert(c.NATSTLSCert, c.NATSTLSKey))
		}
	}
	return s, nil
}

// secureEmbedded makes the embedded server's listener require what the
// flags give: the nkey of --nats-creds from every client, TLS with
// --nats-tls-cert and --nats-tls-key, and client certificates signed by
// --nats-tls-ca.
func secureEmbedded(c Config, s natsSecurity, o *server.Options) error {
	if s.jwt {
		return errors.New("--nats-creds with --nats-listen: the embedded server takes an nkey seed file, not a JWT .creds file (that needs an operator set-up: run nats-server)")
	}
	if s.userNkey != "" {
		o.Nkeys = []*server.NkeyUser{{Nkey: s.userNkey}}
	}
	if c.NATSTLSCert == "" {
		if c.NATSTLSCA != "" {
			return errors.New("--nats-tls-ca with --nats-listen needs --nats-tls-cert and --nats-tls-key")
		}
		return nil
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: c.NATSTLSCert, KeyFile: c.NATSTLSKey, CaFile: c.NATSTLSCA, Verify: c.NATSTLSCA != "",
	})
	if err != nil {
		return fmt.Errorf("--nats-tls-cert/--nats-tls-key: %w", err)
	}
	tc.MinVersion = tls.VersionTLS12
	o.TLSConfig, o.TLSVerify = tc, c.NATSTLSCA != ""
	o.TLS = true
	return nil
}
