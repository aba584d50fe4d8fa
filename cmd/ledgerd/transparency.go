package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unesco-uil/mdfm-ledger/tlog"
)

// startTLog opens the transparency log's store in the data folder and keeps
// the fund's tree up with the log, signing a checkpoint after appends (at
// most one a second), when --signing-key is given (issue 11).
func (m *Main) startTLog() error {
	c := m.Config
	if c.SigningKey == "" {
		return nil
	}
	skey, err := os.ReadFile(c.SigningKey)
	if err != nil {
		return fmt.Errorf("--signing-key: %w", err)
	}
	origin := c.Origin
	if origin == "" {
		origin = tlog.DefaultOrigin(c.Fund)
	}
	signer, err := tlog.NewSigner(string(skey), origin)
	if err != nil {
		return fmt.Errorf("--signing-key %s: %w", c.SigningKey, err)
	}
	if m.tlog, err = tlog.Open(filepath.Join(c.DataDir, tlog.File)); err != nil {
		return err
	}
	f := &tlog.Follower{Log: m.log, Store: m.tlog, Signer: signer, Fund: c.Fund}
	// An event the tree cannot take (altered, unlinked) stops it there, as
	// it stops the projector: the daemon keeps serving what was signed, and
	// says so in its log once per distinct error, not every second.
	var last string
	onErr := func(err error) {
		if err.Error() != last {
			last = err.Error()
			m.logger.Error("transparency log stopped following the log; checkpoints up to where it got are served", "err", err)
		}
	}
	// The first sync is done before the API serves, so that a checkpoint of
	// the log as it stands is there from the first request.
	if _, err := f.Sync(context.Background()); err != nil {
		onErr(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopTLog = cancel
	m.tlogDone = make(chan struct{})
	go func() {
		defer close(m.tlogDone)
		f.Run(ctx, onErr)
	}()
	m.logger.Info("transparency log on", "origin", origin, "key", signer.KeyName())
	return nil
}

// closeTLog stops the follower and closes the tree store.
func (m *Main) closeTLog() error {
	if m.stopTLog != nil {
		m.stopTLog()
		<-m.tlogDone
	}
	if m.tlog != nil {
		return m.tlog.Close()
	}
	return nil
}

// RunKeygen is `ledgerd keygen --name NAME --out FILE`: it makes an Ed25519
// signing key for checkpoints, writes it to FILE (mode 0600, refused if the
// file exists) and prints the verifier key, which donors keep.
func RunKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ledgerd keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the key's `name`, printed on every signature (e.g. uil.unesco.org/mdfm-ledger)")
	out := fs.String("out", "", "write the secret signing key to this new `file` (mode 0600)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keygen: unexpected argument %q", fs.Arg(0))
	}
	if *name == "" {
		return errors.New("keygen --name: required")
	}
	if *out == "" {
		return errors.New("keygen --out: required")
	}
	skey, vkey, err := tlog.GenerateKey(*name)
	if err != nil {
		return fmt.Errorf("keygen --name: %w", err)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keygen --out: %w", err)
	}
	_, err = fmt.Fprintln(f, skey)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(*out)
		return fmt.Errorf("keygen --out: %w", err)
	}
	fmt.Fprintln(stdout, vkey)
	fmt.Fprintf(stderr, "wrote the signing key to %s; the line above is the verifier key donors check checkpoints with\n", *out)
	return nil
}

// registerSignedGauge adds mdfm_signed_fund_seq: the size (the fund_seq of
// its last event) of the fund's latest signed checkpoint.
func (m *Main) registerSignedGauge() {
	fund := m.Config.Fund
	m.metrics.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mdfm_signed_fund_seq", Help: "fund_seq of the chain head the fund's latest signed checkpoint covers (its tree size); 0 before the first.",
		ConstLabels: prometheus.Labels{"fund": fund},
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		size, _, err := m.tlog.Checkpoint(ctx, fund, 0)
		if err != nil {
			return 0
		}
		return float64(size)
	}))
}
