package aggregator

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// errCorruptCache reports a cache file whose bytes no longer match the
// SHA-256 it was written with; the file has been removed.
var errCorruptCache = errors.New("aggregator: corrupt cache file")

// tmpPrefix starts the names of files being written; a crash may leave
// them behind, and opening the cache removes them.
const tmpPrefix = "tmp-"

// diskEntry is a blob in the disk cache. Its file is named
// "<blob ID>.<level>.<hex SHA-256 of the bytes>", so that the name alone
// says what the content must be.
type diskEntry struct {
	id   codec.BlobID
	info cacheInfo
	size int64
	sum  [sha256.Size]byte
	path string

	mu sync.Mutex // serializes checks of the content
	// verified is the file's fingerprint when its bytes last matched sum
	// in this process; ok says there was such a time.
	verified fingerprint
	ok       bool
}

func diskName(id codec.BlobID, lvl level, sum [sha256.Size]byte) string {
	return id.String() + "." + lvl.String() + "." + hex.EncodeToString(sum[:])
}

func parseDiskName(name string) (id codec.BlobID, lvl level, sum [sha256.Size]byte, ok bool) {
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		return id, 0, sum, false
	}
	id, err := codec.ParseBlobID(parts[0])
	if err != nil {
		return id, 0, sum, false
	}
	if lvl, ok = parseLevel(parts[1]); !ok {
		return id, 0, sum, false
	}
	if b, err := hex.DecodeString(parts[2]); err != nil || len(b) != sha256.Size {
		return id, 0, sum, false
	} else {
		copy(sum[:], b)
	}
	// Only the names the cache writes: one file per form.
	return id, lvl, sum, diskName(id, lvl, sum) == name
}

// diskCache is a least-recently-used cache of blob files bounded by the
// sum of their sizes. It is safe for concurrent use. Files are written
// under a temporary name and renamed, without fsync: a file torn by a
// crash fails its SHA-256 check the next time it is opened and is removed.
type diskCache struct {
	dir      string
	capacity int64
	log      *slog.Logger
	onEvict  func(reason string, bytes int64)

	mu    sync.Mutex
	size  int64
	ll    *list.List // of *diskEntry, most recent first
	items map[codec.BlobID]*list.Element
}

// openDiskCache opens the cache in dir, creating dir if needed. Blob files
// left by an earlier process are kept (least recently written first out),
// unchecked until used; temporary files are removed; other files are left
// alone.
func openDiskCache(dir string, capacity int64, log *slog.Logger, onEvict func(string, int64)) (*diskCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("aggregator: disk cache: %w", err)
	}
	c := &diskCache{dir: dir, capacity: capacity, log: log, onEvict: onEvict,
		ll: list.New(), items: make(map[codec.BlobID]*list.Element)}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("aggregator: disk cache: %w", err)
	}
	type found struct {
		e     *diskEntry
		mtime time.Time
	}
	var all []found
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		id, lvl, sum, ok := parseDiskName(name)
		if !ok || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		e := &diskEntry{id: id, info: cacheInfo{level: lvl}, size: fi.Size(), sum: sum, path: filepath.Join(dir, name)}
		all = append(all, found{e, fi.ModTime()})
	}
	slices.SortFunc(all, func(a, b found) int { return b.mtime.Compare(a.mtime) })
	for _, f := range all {
		if el, dup := c.items[f.e.id]; dup {
			// Two levels of one blob: keep the stronger.
			if el.Value.(*diskEntry).info.level >= f.e.info.level {
				_ = os.Remove(f.e.path)
				continue
			}
			c.removeLocked(el, "replaced")
		}
		c.items[f.e.id] = c.ll.PushBack(f.e)
		c.size += f.e.size
	}
	c.evictLocked(nil)
	return c, nil
}

// get returns the entry of id if it was checked at least at lvl, with a
// copy of its info, and marks it recently used.
func (c *diskCache) get(id codec.BlobID, lvl level) (*diskEntry, cacheInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok {
		return nil, cacheInfo{}, false
	}
	e := el.Value.(*diskEntry)
	if e.info.level < lvl {
		return nil, cacheInfo{}, false
	}
	c.ll.MoveToFront(el)
	return e, e.info, true
}

// open opens the entry's file for reading, after checking its bytes
// against the entry's SHA-256 unless they were checked in this file state
// before. A file that fails is removed and errCorruptCache returned.
func (c *diskCache) open(e *diskEntry) (*os.File, error) {
	f, err := os.Open(e.path)
	if err != nil {
		c.drop(e, "missing")
		return nil, fmt.Errorf("aggregator: disk cache: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("aggregator: disk cache: %w", err)
	}
	fp := fingerprintOf(fi)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ok && e.verified == fp {
		return f, nil
	}
	good := fi.Size() == e.size
	if good {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			f.Close()
			return nil, fmt.Errorf("aggregator: disk cache: %w", err)
		}
		good = [sha256.Size]byte(h.Sum(nil)) == e.sum
	}
	if !good {
		f.Close()
		c.log.Warn("corrupt cache file removed", "blob_id", e.id, "path", e.path)
		c.drop(e, "corrupt")
		return nil, errCorruptCache
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("aggregator: disk cache: %w", err)
	}
	e.verified, e.ok = fp, true
	return f, nil
}

// drop removes e if it is still the entry of its blob.
func (c *diskCache) drop(e *diskEntry, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.id]; ok && el.Value.(*diskEntry) == e {
		c.removeLocked(el, reason)
	}
}

// fits reports whether a blob of size bytes may be kept.
func (c *diskCache) fits(size int64) bool { return size <= c.capacity }

// write stores the blob, replacing an entry of the same or a weaker level.
func (c *diskCache) write(id codec.BlobID, info cacheInfo, data *blobData) error {
	if !c.fits(data.size) {
		return nil
	}
	f, err := os.CreateTemp(c.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("aggregator: disk cache: %w", err)
	}
	tmp := f.Name()
	h := sha256.New()
	for _, row := range data.rows {
		h.Write(row)
		if _, err = f.Write(row); err != nil {
			break
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("aggregator: disk cache: %w", err)
	}
	sum := [sha256.Size]byte(h.Sum(nil))
	path := filepath.Join(c.dir, diskName(id, info.level, sum))
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("aggregator: disk cache: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("aggregator: disk cache: %w", err)
	}
	e := &diskEntry{id: id, info: info, size: data.size, sum: sum, path: path, verified: fingerprintOf(fi), ok: true}

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		old := el.Value.(*diskEntry)
		if old.info.level > info.level {
			c.ll.MoveToFront(el)
			if old.path != path {
				_ = os.Remove(path)
			}
			return nil
		}
		if old.path == path { // the same bytes at the same level
			c.ll.Remove(el)
			delete(c.items, id)
			c.size -= old.size
		} else {
			c.removeLocked(el, "replaced")
		}
	}
	c.items[id] = c.ll.PushFront(e)
	c.size += e.size
	c.evictLocked(e)
	return nil
}

// evictLocked removes least recently used entries until the cache fits,
// never keep.
func (c *diskCache) evictLocked(keep *diskEntry) {
	for el := c.ll.Back(); c.size > c.capacity && el != nil; {
		prev := el.Prev()
		if el.Value.(*diskEntry) != keep {
			c.removeLocked(el, "capacity")
		}
		el = prev
	}
}

func (c *diskCache) removeLocked(el *list.Element, reason string) {
	e := el.Value.(*diskEntry)
	c.ll.Remove(el)
	delete(c.items, e.id)
	c.size -= e.size
	if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log.Warn("remove cache file", "path", e.path, "err", err)
	}
	if c.onEvict != nil {
		c.onEvict(reason, e.size)
	}
}

// remove drops the blob and its file.
func (c *diskCache) remove(id codec.BlobID, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.removeLocked(el, reason)
	}
}

// update changes the info of the blob's entry, if any.
func (c *diskCache) update(id codec.BlobID, fn func(*cacheInfo)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		fn(&el.Value.(*diskEntry).info)
	}
}

// expire drops every blob known to end at or before epoch. Entries left
// by an earlier process have no known end yet and stay until used.
func (c *diskCache) expire(epoch chain.Epoch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*diskEntry); !e.info.checkedAt.IsZero() && e.info.endEpoch <= epoch {
			c.removeLocked(el, "expired")
		}
		el = next
	}
}

// stats returns the bytes and number of blobs held.
func (c *diskCache) stats() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, len(c.items)
}
