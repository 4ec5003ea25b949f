//go:build unix

package nats

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir for the life of the process (the
// kernel drops it when the process dies, even by SIGKILL): two JetStream
// servers must never share a store directory.
func lockDir(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("queue: %s is in use by another tessera process (%v); point CLI commands at it with --data-dir, or run this one on another data dir", dir, err)
	}
	return func() { f.Close() }, nil
}
