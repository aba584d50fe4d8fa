package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofFlag: --pprof serves Go's profiles on a listener of its own,
// not on the API's; without it there are none.
func TestPprofFlag(t *testing.T) {
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--pprof", "127.0.0.1:0")
	if d.m.pprofLn == nil {
		t.Fatal("--pprof set, no listener")
	}
	resp, err := http.Get("http://" + d.m.pprofLn.Addr().String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine") {
		t.Errorf("pprof goroutine profile: %d %.200s", resp.StatusCode, b)
	}
	resp, err = http.Get(d.url + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the API answers /debug/pprof/ with 200: profiles must stay off the API")
	}
}
