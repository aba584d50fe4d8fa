//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// DataLockFile is the lock a process holds on a data folder while it runs a
// NATS server on the JetStream store in it. nats-server itself does not lock
// its store, and two servers on one store can damage it: ledgerd should take
// the same lock.
const DataLockFile = "mdfm.lock"

// lockDataDir takes the data folder's lock without waiting; it fails when
// another process holds it. The lock ends with release or with the process.
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, DataLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by another process (%s is locked): stop ledgerd first, or use --nats", dir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
