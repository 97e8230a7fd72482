//go:build unix

package local

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking advisory lock on f, so that two
// processes never append to one log.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
