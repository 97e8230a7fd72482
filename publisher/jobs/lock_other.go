//go:build !unix

package jobs

import (
	"context"
	"os"
)

// lockFile is a no-op where flock(2) does not exist: there, let one process
// open a new SQLite job store first, before others open it too.
func lockFile(context.Context, *os.File) error { return nil }

func unlockFile(*os.File) {}
