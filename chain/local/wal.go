package local

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
)

// ErrCorruptLog is returned by Open when the log is damaged somewhere other
// than at its end: dropping the damage would drop intact changes after it,
// so the ledger refuses to start and leaves the file as it is.
var ErrCorruptLog = errors.New("ledger log is corrupt")

// wal is the append-only log file.
type wal struct {
	f    *os.File
	path string
	size int64
	buf  []byte
}

// openWAL opens (creating) the log, takes its lock, and calls replay for
// every intact record in order. A bad tail is truncated and logged.
func openWAL(path string, logger *slog.Logger, replay func(payload []byte) error) (*wal, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create ledger directory: %w", err)
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open ledger log: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock ledger log %s (is another process using it?): %w", path, err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// Make the new file's directory entry durable.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	w := &wal{f: f, path: path}
	if err := w.replay(logger, replay); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *wal) replay(logger *slog.Logger, apply func([]byte) error) error {
	r := bufio.NewReaderSize(w.f, 1<<20)
	var (
		off int64
		buf = make([]byte, recordHeaderSize)
	)
	for {
		n, err := io.ReadFull(r, buf[:recordHeaderSize])
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("read ledger log: %w", err)
		}
		rec := buf[:n]
		if n == recordHeaderSize {
			if size := binary.LittleEndian.Uint32(buf[:4]); size <= maxRecordSize {
				buf = slices.Grow(buf[:recordHeaderSize], int(size))[:recordHeaderSize+int(size)]
				m, err := io.ReadFull(r, buf[recordHeaderSize:])
				if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
					return fmt.Errorf("read ledger log: %w", err)
				}
				rec = buf[:recordHeaderSize+m]
			}
		}
		payload, used, err := decodeRecord(rec)
		if err != nil {
			return w.dropTail(logger, off, err)
		}
		if err := apply(payload); err != nil {
			return fmt.Errorf("%w: record at offset %d: %w", ErrCorruptLog, off, err)
		}
		off += int64(used)
	}
	w.size = off
	if _, err := w.f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("seek ledger log: %w", err)
	}
	return nil
}

// dropTail handles a bad record at off. If an intact record follows
// anywhere after it, the log is damaged in the middle: refuse. Otherwise the
// bad bytes are the torn end of an interrupted write: truncate them.
func (w *wal) dropTail(logger *slog.Logger, off int64, cause error) error {
	rest, err := w.readFrom(off)
	if err != nil {
		return err
	}
	for i := 1; i < len(rest); i++ {
		if _, _, err := decodeRecord(rest[i:]); err == nil {
			return fmt.Errorf("%w: bad record at offset %d (%v) followed by an intact record at offset %d", ErrCorruptLog, off, cause, off+int64(i))
		}
	}
	logger.Warn("ledger: dropping torn record at the end of the log",
		"path", w.path, "offset", off, "bytes", len(rest), "reason", cause.Error())
	if err := w.f.Truncate(off); err != nil {
		return fmt.Errorf("truncate torn ledger record: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync ledger log: %w", err)
	}
	w.size = off
	if _, err := w.f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("seek ledger log: %w", err)
	}
	return nil
}

func (w *wal) readFrom(off int64) ([]byte, error) {
	st, err := w.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat ledger log: %w", err)
	}
	rest := make([]byte, st.Size()-off)
	if _, err := w.f.ReadAt(rest, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("read ledger log: %w", err)
	}
	return rest, nil
}

// append writes one record and fsyncs it. On failure it cuts the file back
// to its previous length so that a later append does not follow garbage; if
// even that fails, the error says so and the caller must stop writing.
func (w *wal) append(payload []byte) error {
	w.buf = appendRecord(w.buf[:0], payload)
	if _, err := w.f.Write(w.buf); err != nil {
		return w.undo(fmt.Errorf("write ledger log: %w", err))
	}
	if err := w.f.Sync(); err != nil {
		return w.undo(fmt.Errorf("sync ledger log: %w", err))
	}
	w.size += int64(len(w.buf))
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
	return nil
}

// errWALBroken marks a log that could not be restored after a failed write.
var errWALBroken = errors.New("ledger log is in an unknown state")

func (w *wal) undo(cause error) error {
	if err := w.f.Truncate(w.size); err != nil {
		return fmt.Errorf("%w: %w (and truncating back failed: %v)", errWALBroken, cause, err)
	}
	if _, err := w.f.Seek(w.size, io.SeekStart); err != nil {
		return fmt.Errorf("%w: %w (and seeking back failed: %v)", errWALBroken, cause, err)
	}
	return cause
}

func (w *wal) close() error {
	unlockFile(w.f)
	return w.f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open ledger directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync ledger directory: %w", err)
	}
	return nil
}
