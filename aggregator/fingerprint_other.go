//go:build !linux

package aggregator

import "os"

// fingerprint identifies one state of a file by its size and modification
// time (Linux adds the ctime and the inode).
type fingerprint struct {
	size, mtime int64
}

func fingerprintOf(fi os.FileInfo) fingerprint {
	return fingerprint{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}
