package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

// TokensPollInterval is how often the daemon looks whether the tokens file
// changed (its modification time or size), to reload it as SIGHUP does.
const TokensPollInterval = 2 * time.Second

// ReloadTokens reads the tokens file again (on SIGHUP, or when it changed).
// A file that does not parse is refused with a log line naming the line,
// and the tokens in force are kept. On success requests from now on are
// judged against the new file: a removed user is refused at the next
// request, their web sessions end, and every OnTokensReload hook learns who
// was removed.
func (m *Main) ReloadTokens() error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	if m.Config.TokensFile == "" || m.api == nil {
		return nil
	}
	t, err := access.LoadTokens(m.Config.TokensFile)
	for _, l := range m.demoLines {
		if err == nil {
			err = t.AddLine(l)
		}
	}
	if err != nil {
		m.metrics.TokensReloaded(false)
		m.logger.Error("tokens file refused; the tokens in force are kept", "err", err)
		return fmt.Errorf("reload tokens: %w", err)
	}
	old := m.tokens
	m.tokens = t
	m.api.SetTokens(t)
	if m.web != nil {
		m.web.TokensReloaded(t)
	}
	removed := access.RemovedUsers(old, t)
	m.metrics.TokensReloaded(true)
	m.logger.Info("tokens file reloaded", "path", m.Config.TokensFile, "tokens", t.Len(), "removed_users", removed)
	for _, hook := range m.OnTokensReload {
		hook(removed, t)
	}
	return nil
}

// fileStamp is a file's modification time and size (-1 when unreadable).
func fileStamp(path string) (time.Time, int64) {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, -1
	}
	return fi.ModTime(), fi.Size()
}

// watchTokens reloads the tokens file when its modification time or size
// differs from mod and size (taken before the file was first read), until
// ctx ends.
func (m *Main) watchTokens(ctx context.Context, mod time.Time, size int64) {
	path := m.Config.TokensFile
	tick := time.NewTicker(TokensPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if mod2, size2 := fileStamp(path); !mod2.Equal(mod) || size2 != size {
			mod, size = mod2, size2
			if size2 >= 0 {
				m.ReloadTokens() // a refusal is logged and counted
			}
		}
	}
}
