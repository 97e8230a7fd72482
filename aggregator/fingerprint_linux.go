package aggregator

import (
	"os"
	"syscall"
)

// fingerprint identifies one state of a file: any write through the file
// system changes its ctime, a replacement its inode.
type fingerprint struct {
	size, mtime, ctime int64
	ino, dev           uint64
}

func fingerprintOf(fi os.FileInfo) fingerprint {
	fp := fingerprint{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fp.ctime = st.Ctim.Nano()
		fp.ino, fp.dev = st.Ino, uint64(st.Dev)
	}
	return fp
}
