package publisher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The spool holds each upload's body in SpoolDir/<job ID>.blob from the
// moment it is received until its job is finished. A body being received is
// written to <job ID>.part and renamed once complete and durable, so that a
// .blob file is always a whole upload.

const (
	spoolExt     = ".blob"
	spoolPartExt = ".part"
	// spoolSliverExt is a large blob's slivers, encoded from its .blob
	// file, kept until every node has been served (codec.SliverLayout).
	spoolSliverExt = ".slivers"
	// spoolBufSize is the one buffer a request holds while its body is
	// received.
	spoolBufSize = 256 << 10
)

// errTooLarge: the body exceeds its limit.
var errTooLarge = errors.New("body exceeds the size limit")

type spool struct {
	dir  string
	bufs sync.Pool
}

func newSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("publisher: spool dir: %w", err)
	}
	return &spool{dir: dir, bufs: sync.Pool{New: func() any { b := make([]byte, spoolBufSize); return &b }}}, nil
}

func (s *spool) path(id string) string { return filepath.Join(s.dir, id+spoolExt) }

func (s *spool) sliverPath(id string) string { return filepath.Join(s.dir, id+spoolSliverExt) }

// onlyWriter hides a file's ReadFrom, so that copies go through the
// spool's buffer.
type onlyWriter struct{ io.Writer }

// write streams r into the spool file of job id, at most limit bytes (more
// gives errTooLarge), makes it durable, and returns its path and length.
// On error nothing is left behind.
func (s *spool) write(id string, r io.Reader, limit int64) (string, int64, error) {
	part := filepath.Join(s.dir, id+spoolPartExt)
	f, err := os.OpenFile(part, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return "", 0, fmt.Errorf("spool: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(part)
		}
	}()
	bp := s.bufs.Get().(*[]byte)
	n, err := io.CopyBuffer(onlyWriter{f}, io.LimitReader(r, limit+1), *bp)
	s.bufs.Put(bp)
	if err != nil {
		return "", n, fmt.Errorf("spool: receiving the body: %w", err)
	}
	if n > limit {
		return "", n, errTooLarge
	}
	if err := f.Sync(); err != nil {
		return "", n, fmt.Errorf("spool: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", n, fmt.Errorf("spool: %w", err)
	}
	final := s.path(id)
	if err := os.Rename(part, final); err != nil {
		return "", n, fmt.Errorf("spool: %w", err)
	}
	ok = true
	if err := syncDir(s.dir); err != nil {
		os.Remove(final)
		return "", n, fmt.Errorf("spool: %w", err)
	}
	return final, n, nil
}

// writeBytes is write for a body already in memory (a built quilt).
func (s *spool) writeBytes(id string, b []byte) (string, error) {
	path, _, err := s.write(id, bytes.NewReader(b), int64(len(b)))
	return path, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// remove deletes a finished job's spool file.
func (s *spool) remove(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// spoolFile is one entry of the spool directory.
type spoolFile struct {
	path    string
	id      string // job ID
	partial bool   // a body still (or never fully) received
	modTime time.Time
}

// list returns the spool's files.
func (s *spool) list() ([]spoolFile, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []spoolFile
	for _, e := range ents {
		name := e.Name()
		var f spoolFile
		switch {
		case strings.HasSuffix(name, spoolExt):
			f.id = strings.TrimSuffix(name, spoolExt)
		case strings.HasSuffix(name, spoolSliverExt):
			f.id = strings.TrimSuffix(name, spoolSliverExt)
		case strings.HasSuffix(name, spoolPartExt):
			f.id, f.partial = strings.TrimSuffix(name, spoolPartExt), true
		default:
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		f.path, f.modTime = filepath.Join(s.dir, name), info.ModTime()
		out = append(out, f)
	}
	return out, nil
}
