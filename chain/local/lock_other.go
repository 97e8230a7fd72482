//go:build !unix

package local

import "os"

// lockFile is a no-op where flock(2) does not exist; run one ledger per log.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
