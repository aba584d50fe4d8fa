package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
)

// statusAs answers the status of GET path with a bearer token.
func (d *daemon) statusAs(token, path string) int {
	req, _ := http.NewRequest("GET", d.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func tokenLine(user, role, token string) string {
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%s %s %s\n", user, role, hex.EncodeToString(sum[:]))
}

// replaceFile writes content to path by rename, as an editor or a
// deployment tool does, and gives it the modification time mod: with the
// same size the daemon's polling cannot see the change, only SIGHUP.
func replaceFile(t *testing.T, path, content string, mod time.Time) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mod, mod); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestSIGHUPReloadsTokens: the real ledgerd, with requests running, is sent
// SIGHUP after its tokens file dropped olu and added zoe: zoe is let in,
// olu refused at the next request, and the requests of users who stay never
// fail. A file that does not parse is then refused with a log line naming
// its line, and the tokens in force are kept.
func TestSIGHUPReloadsTokens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.txt")
	keep := tokenLine("kim", "auditor", users["kim"][1]) + tokenLine("ana", "approver", users["ana"][1])
	if err := os.WriteFile(path, []byte(keep+tokenLine("olu", "officer", users["olu"][1])), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	d := start(t, "--data", filepath.Join(dir, "data"), "--tokens", path)

	const zoeToken = "tok-zoe-0123456789abcdef"
	if st := d.statusAs(zoeToken, "/v1/events?limit=1"); st != 401 {
		t.Fatalf("zoe before the reload: %d, want 401", st)
	}
	var (
		stop          = make(chan struct{})
		wg            sync.WaitGroup
		served, fails atomic.Int64
	)
	for _, u := range []string{"kim", "ana"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if st := d.statusAs(users[u][1], "/v1/events?limit=1"); st == 200 {
					served.Add(1)
				} else {
					fails.Add(1)
				}
			}
		}()
	}

	// Same size ("zoe auditor" for "olu officer") and the old mtime: only
	// the signal can make the daemon read it.
	replaceFile(t, path, keep+tokenLine("zoe", "auditor", zoeToken), fi.ModTime())
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 30*time.Second, "zoe let in after SIGHUP", func() bool { return d.statusAs(zoeToken, "/v1/events?limit=1") == 200 })
	if st := d.statusAs(users["olu"][1], "/v1/events?limit=1"); st != 401 {
		t.Errorf("olu after the reload removed him: %d, want 401", st)
	}

	replaceFile(t, path, keep+"zoe auditor not-a-hash\n", time.Now())
	d.cmd.Process.Signal(syscall.SIGHUP)
	testwait.For(t, 30*time.Second, "the bad file refused in the log", func() bool {
		return strings.Contains(d.output(), "tokens file refused") && strings.Contains(d.output(), "tokens line 3")
	})
	if st := d.statusAs(zoeToken, "/v1/events?limit=1"); st != 200 {
		t.Errorf("zoe after a refused file: %d, want 200 (the tokens in force kept)", st)
	}
	if st := d.statusAs(users["olu"][1], "/v1/events?limit=1"); st != 401 {
		t.Errorf("olu after a refused file: %d, want 401", st)
	}
	close(stop)
	wg.Wait()
	if fails.Load() != 0 || served.Load() == 0 {
		t.Errorf("requests of users who stayed: %d served, %d failed; want none failed", served.Load(), fails.Load())
	}
	t.Logf("SIGHUP reload with requests running: %d requests of staying users served, %d failed", served.Load(), fails.Load())
}
