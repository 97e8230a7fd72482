package aggregator

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
)

func testID(i byte) codec.BlobID {
	var id codec.BlobID
	id[0], id[31] = i, i
	return id
}

func testData(n int, seed byte) *blobData {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return newBlobData(b, 1000)
}

func liveInfo(lvl level) cacheInfo {
	return cacheInfo{level: lvl, endEpoch: 10, checkedAt: time.Now()}
}

func TestMemCacheEvictsByBytes(t *testing.T) {
	var evicted []string
	c := newMemCache(10_000, 5_000, func(reason string, _ int64) { evicted = append(evicted, reason) })
	c.put(testID(1), liveInfo(levelDefault), testData(4000, 1))
	c.put(testID(2), liveInfo(levelDefault), testData(4000, 2))
	if _, ok := c.get(testID(1), levelDefault); !ok { // 1 is now the most recent
		t.Fatal("blob 1 missing")
	}
	c.put(testID(3), liveInfo(levelDefault), testData(4000, 3)) // 12000 > 10000: 2 goes
	if _, ok := c.get(testID(2), levelDefault); ok {
		t.Fatal("least recently used blob kept")
	}
	for _, i := range []byte{1, 3} {
		if _, ok := c.get(testID(i), levelDefault); !ok {
			t.Fatalf("blob %d evicted", i)
		}
	}
	if size, n := c.stats(); size != 8000 || n != 2 {
		t.Fatalf("stats %d bytes %d blobs, want 8000, 2", size, n)
	}
	c.put(testID(4), liveInfo(levelDefault), testData(6000, 4)) // above maxEntry: not kept
	if _, ok := c.get(testID(4), levelDefault); ok {
		t.Fatal("blob above the entry limit kept")
	}
	if len(evicted) != 1 || evicted[0] != "capacity" {
		t.Fatalf("evictions %v", evicted)
	}
}

func TestMemCacheLevels(t *testing.T) {
	c := newMemCache(10_000, 10_000, nil)
	id := testID(1)
	c.put(id, liveInfo(levelDefault), testData(100, 1))
	if _, ok := c.get(id, levelStrict); ok {
		t.Fatal("a default-checked blob served a strict read")
	}
	if _, ok := c.get(id, levelSkip); !ok {
		t.Fatal("a default-checked blob did not serve a skip read")
	}
	c.put(id, liveInfo(levelStrict), testData(100, 1))
	if _, ok := c.get(id, levelStrict); !ok {
		t.Fatal("strict entry missing")
	}
	c.put(id, liveInfo(levelDefault), testData(100, 1)) // does not downgrade
	if e, _ := c.get(id, levelSkip); e.info.level != levelStrict {
		t.Fatalf("level %v after a weaker put", e.info.level)
	}
	c.expire(9)
	if _, ok := c.get(id, levelSkip); !ok {
		t.Fatal("expired before its end epoch")
	}
	c.expire(10)
	if _, ok := c.get(id, levelSkip); ok {
		t.Fatal("kept at its end epoch")
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if _, ok := t.(*benchTB); ok {
		return discardLogger()
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func readAll(t *testing.T, c *diskCache, id codec.BlobID) ([]byte, error) {
	t.Helper()
	e, _, ok := c.get(id, levelDefault)
	if !ok {
		return nil, os.ErrNotExist
	}
	f, err := c.open(e)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func TestDiskCache(t *testing.T) {
	dir := t.TempDir()
	c, err := openDiskCache(dir, 10_000, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := testData(4000, 1), testData(4000, 2)
	if err := c.write(testID(1), liveInfo(levelDefault), a); err != nil {
		t.Fatal(err)
	}
	if err := c.write(testID(2), liveInfo(levelDefault), b); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, c, testID(1))
	if err != nil || !bytes.Equal(got, a.contiguous()) {
		t.Fatalf("read back: %v", err)
	}

	t.Run("evicts by bytes", func(t *testing.T) {
		if err := c.write(testID(3), liveInfo(levelDefault), testData(4000, 3)); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := c.get(testID(2), levelDefault); ok {
			t.Fatal("least recently used blob kept")
		}
		if size, n := c.stats(); size != 8000 || n != 2 {
			t.Fatalf("stats %d bytes %d blobs", size, n)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(files) != 2 {
			t.Fatalf("%d files on disk, want 2: %v", len(files), files)
		}
	})

	t.Run("corrupt file replaced in place", func(t *testing.T) {
		e, _, _ := c.get(testID(1), levelDefault)
		bad := bytes.Clone(a.contiguous())
		bad[1234] ^= 1
		// Another file renamed over it: a new inode.
		tmp := filepath.Join(dir, "other")
		if err := os.WriteFile(tmp, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, e.path); err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(t, c, testID(1)); !errors.Is(err, errCorruptCache) {
			t.Fatalf("corrupt file: %v, want errCorruptCache", err)
		}
		if _, err := os.Stat(e.path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("corrupt file not removed: %v", err)
		}
		if _, _, ok := c.get(testID(1), levelDefault); ok {
			t.Fatal("corrupt entry kept")
		}
	})

	t.Run("reopen checks files and drops temporaries", func(t *testing.T) {
		e, _, ok := c.get(testID(3), levelDefault)
		if !ok {
			t.Fatal("blob 3 missing")
		}
		f, err := os.OpenFile(e.path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{0xff, 0xee}, 100); err != nil { // in place, same size
			t.Fatal(err)
		}
		f.Close()
		if err := os.WriteFile(filepath.Join(dir, tmpPrefix+"torn"), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not ours"), 0o644); err != nil {
			t.Fatal(err)
		}
		c2, err := openDiskCache(dir, 10_000, testLogger(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(t, c2, testID(3)); !errors.Is(err, errCorruptCache) {
			t.Fatalf("file changed in place: %v, want errCorruptCache", err)
		}
		if _, err := os.Stat(filepath.Join(dir, tmpPrefix+"torn")); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("temporary file kept")
		}
		if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
			t.Fatal("a file the cache did not write was removed")
		}
		if _, n := c2.stats(); n != 0 {
			t.Fatalf("%d blobs left", n)
		}
	})
}

func TestDiskCacheKeepsStrongerLevel(t *testing.T) {
	dir := t.TempDir()
	c, err := openDiskCache(dir, 1<<20, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, d := testID(7), testData(3000, 7)
	if err := c.write(id, liveInfo(levelStrict), d); err != nil {
		t.Fatal(err)
	}
	if err := c.write(id, liveInfo(levelDefault), d); err != nil {
		t.Fatal(err)
	}
	if _, info, ok := c.get(id, levelStrict); !ok || info.level != levelStrict {
		t.Fatal("strict entry replaced by a default one")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	// Reopened, the entry is unchecked with the ledger until used.
	c2, err := openDiskCache(dir, 1<<20, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, info, ok := c2.get(id, levelStrict)
	if !ok || !info.checkedAt.IsZero() {
		t.Fatalf("reopened entry: ok %v checked %v", ok, info.checkedAt)
	}
	got, err := readAll(t, c2, id)
	if err != nil || !bytes.Equal(got, d.contiguous()) {
		t.Fatalf("reopened read: %v", err)
	}
}

func FuzzParseDiskName(f *testing.F) {
	var sum [32]byte
	f.Add(diskName(testID(1), levelDefault, sum))
	f.Add(diskName(testID(2), levelStrict, sum))
	f.Add("tmp-123")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, name string) {
		id, lvl, sum, ok := parseDiskName(name)
		if ok && diskName(id, lvl, sum) != name {
			t.Fatalf("%q parses as %s, %v, %x", name, id, lvl, sum)
		}
	})
}
