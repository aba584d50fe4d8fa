//go:build !unix

package main

// DataLockFile is the lock of a data folder; see lock_unix.go.
const DataLockFile = "mdfm.lock"

// lockDataDir does nothing where flock(2) is not available.
func lockDataDir(string) (func(), error) { return func() {}, nil }
