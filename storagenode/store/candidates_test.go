package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dgraph-io/badger/v4"
	bolt "go.etcd.io/bbolt"

	"github.com/haulout/haulout/codec"
)

// candidate is one storage engine in the comparison that chose the engine
// behind Store (see doc.go). Every put is one durable commit: it returns only
// after the engine has fsynced it.
type candidate interface {
	put(kvs []kv) error
	// view calls fn with value i, valid only during fn.
	view(i int, fn func([]byte) error) error
	del(is []int) error
	// reclaim runs whatever the engine needs to give deleted space back.
	reclaim() error
	close() error
}

// kv is value v under key number i; each engine forms its own key from i.
type kv struct {
	i int
	v []byte
}

var errMissing = errors.New("missing")

type engine struct {
	name string
	open func(dir string) (candidate, error)
}

var engines = []engine{
	{"pebble", openPebble},
	{"badger", openBadger},
	{"bbolt", openBolt},
	{"files", openFiles},
	{"filespar", openFilesPar},
	{"store", openStoreCandidate},
}

// ---- pebble ----

type pebbleKV struct{ db *pebble.DB }

// openPebble opens pebble configured as Store configures it.
func openPebble(dir string) (candidate, error) {
	opts := Options{Logger: slog.New(slog.DiscardHandler)}
	opts.applyDefaults()
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref()
	db, err := pebble.Open(dir, pebbleOptions(opts, cache, opts.Logger))
	if err != nil {
		return nil, err
	}
	return &pebbleKV{db}, nil
}

func (p *pebbleKV) put(kvs []kv) error {
	b := p.db.NewBatch()
	defer b.Close()
	for _, e := range kvs {
		if err := b.Set(benchKey(e.i), e.v, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func (p *pebbleKV) view(i int, fn func([]byte) error) error {
	v, c, err := p.db.Get(benchKey(i))
	if errors.Is(err, pebble.ErrNotFound) {
		return errMissing
	}
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(v)
}

func (p *pebbleKV) del(is []int) error {
	b := p.db.NewBatch()
	defer b.Close()
	for _, i := range is {
		if err := b.Delete(benchKey(i), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func (p *pebbleKV) reclaim() error {
	if err := p.db.Flush(); err != nil {
		return err
	}
	return p.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true)
}

func (p *pebbleKV) close() error { return p.db.Close() }

// ---- badger ----

type badgerKV struct {
	dir string
	db  *badger.DB
}

func openBadger(dir string) (candidate, error) {
	db, err := badger.Open(badgerOptions(dir))
	if err != nil {
		return nil, err
	}
	return &badgerKV{dir, db}, nil
}

func badgerOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithValueThreshold(4 << 10).
		WithValueLogFileSize(256 << 20).
		WithCompression(0).
		WithLogger(nil)
}

func (b *badgerKV) put(kvs []kv) error {
	return b.db.Update(func(txn *badger.Txn) error {
		for _, e := range kvs {
			if err := txn.Set(benchKey(e.i), e.v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *badgerKV) view(i int, fn func([]byte) error) error {
	return b.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(benchKey(i))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return errMissing
		}
		if err != nil {
			return err
		}
		return it.Value(fn)
	})
}

func (b *badgerKV) del(is []int) error {
	return b.db.Update(func(txn *badger.Txn) error {
		for _, i := range is {
			if err := txn.Delete(benchKey(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *badgerKV) reclaim() error {
	// Discard statistics reach the value log only through LSM compactions,
	// and badger has no public memtable flush: close (which flushes) and
	// reopen, then flatten so that every deleted value is counted as garbage.
	if err := b.db.Close(); err != nil {
		return err
	}
	db, err := badger.Open(badgerOptions(b.dir))
	if err != nil {
		return err
	}
	b.db = db
	if err := b.db.Flatten(2); err != nil {
		return err
	}
	for {
		err := b.db.RunValueLogGC(0.01)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (b *badgerKV) close() error { return b.db.Close() }

// ---- bbolt ----

type boltKV struct{ db *bolt.DB }

var boltBucket = []byte("kv")

func openBolt(dir string) (candidate, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, &bolt.Options{
		Timeout:        time.Second,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(boltBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &boltKV{db}, nil
}

func (b *boltKV) put(kvs []kv) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(boltBucket)
		for _, e := range kvs {
			if err := bk.Put(benchKey(e.i), e.v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *boltKV) view(i int, fn func([]byte) error) error {
	return b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(boltBucket).Get(benchKey(i))
		if v == nil {
			return errMissing
		}
		return fn(v)
	})
}

func (b *boltKV) del(is []int) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(boltBucket)
		for _, i := range is {
			if err := bk.Delete(benchKey(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// reclaim does nothing: bbolt reuses freed pages but never shrinks its file
// while open; only an offline bolt.Compact into a new file does.
func (b *boltKV) reclaim() error { return nil }

func (b *boltKV) close() error { return b.db.Close() }

// ---- plain files ----

// filesKV is the baseline: one file per value, written to a temporary name,
// fsynced, renamed into place, and the directory fsynced once per commit.
type filesKV struct{ dir string }

func openFiles(dir string) (candidate, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &filesKV{dir}, nil
}

func (f *filesKV) path(i int) string { return filepath.Join(f.dir, hex.EncodeToString(benchKey(i))) }

func (f *filesKV) put(kvs []kv) error {
	for _, e := range kvs {
		tmp := f.path(e.i) + ".tmp"
		if err := writeFileSync(tmp, e.v); err != nil {
			return err
		}
		if err := os.Rename(tmp, f.path(e.i)); err != nil {
			return err
		}
	}
	return syncDir(f.dir)
}

// filesParKV is filesKV with the files of one commit written and fsynced
// concurrently, so that the file system can merge their journal commits.
type filesParKV struct{ filesKV }

func openFilesPar(dir string) (candidate, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &filesParKV{filesKV{dir}}, nil
}

func (f *filesParKV) put(kvs []kv) error {
	errs := make(chan error, len(kvs))
	for _, e := range kvs {
		go func() {
			tmp := f.path(e.i) + ".tmp"
			if err := writeFileSync(tmp, e.v); err != nil {
				errs <- err
				return
			}
			errs <- os.Rename(tmp, f.path(e.i))
		}()
	}
	var first error
	for range kvs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return syncDir(f.dir)
}

func writeFileSync(name string, data []byte) error {
	fh, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// view reads into a pooled buffer, as a server would, rather than allocating
// a fresh one per read as os.ReadFile does.
func (f *filesKV) view(i int, fn func([]byte) error) error {
	fh, err := os.Open(f.path(i))
	if errors.Is(err, fs.ErrNotExist) {
		return errMissing
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	bp := filesBufs.Get().(*[]byte)
	defer filesBufs.Put(bp)
	if int64(cap(*bp)) < st.Size() {
		*bp = make([]byte, st.Size())
	}
	buf := (*bp)[:st.Size()]
	if _, err := io.ReadFull(fh, buf); err != nil {
		return err
	}
	return fn(buf)
}

var filesBufs = sync.Pool{New: func() any { return new([]byte) }}

func (f *filesKV) del(is []int) error {
	for _, i := range is {
		if err := os.Remove(f.path(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return syncDir(f.dir)
}

func (f *filesKV) reclaim() error { return nil }
func (f *filesKV) close() error   { return nil }

// ---- the package's Store ----

// storeKV is the chosen engine through this package's API: value i is
// sliver (i mod benchPerBlob, primary) of blob i/benchPerBlob.
type storeKV struct{ s *Store }

func openStoreCandidate(dir string) (candidate, error) {
	s, err := Open(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	return &storeKV{s}, nil
}

func candidateSliver(i int) (codec.BlobID, SliverID) {
	var id codec.BlobID
	binary.BigEndian.PutUint64(id[:], uint64(i/benchPerBlob))
	return id, SliverID{Pair: uint16(i % benchPerBlob), Axis: Primary}
}

func (s *storeKV) put(kvs []kv) error {
	b := s.s.NewBatch()
	for _, e := range kvs {
		id, sid := candidateSliver(e.i)
		b.PutSliver(id, sid, e.v)
	}
	return b.Commit(context.Background())
}

func (s *storeKV) view(i int, fn func([]byte) error) error {
	id, sid := candidateSliver(i)
	err := s.s.ViewSliver(context.Background(), id, sid, fn)
	if errors.Is(err, ErrNotFound) {
		return errMissing
	}
	return err
}

// del deletes whole blobs: the store deletes by blob, not by sliver.
func (s *storeKV) del(is []int) error {
	b := s.s.NewBatch()
	seen := map[codec.BlobID]bool{}
	for _, i := range is {
		id, _ := candidateSliver(i)
		if !seen[id] {
			seen[id] = true
			b.DeleteBlob(id)
		}
	}
	return b.Commit(context.Background())
}

func (s *storeKV) reclaim() error { return s.s.Reclaim(context.Background()) }
func (s *storeKV) close() error   { return s.s.Close() }

// ---- helpers ----

// diskUsage is the space allocated on disk under dir (st_blocks), the same
// measure for every engine.
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by the engine while we walk
		}
		if err != nil {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	return total, err
}

func benchKey(i int) []byte { return fmt.Appendf(nil, "k%012d", i) }

// benchValue is deterministic in (key, size) so that readers can check it.
func benchValue(i, size int) []byte {
	v := make([]byte, size)
	fillValue(v, uint64(i))
	return v
}

func fillValue(v []byte, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 + 1
	for j := 0; j+8 <= len(v); j += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v[j], v[j+1], v[j+2], v[j+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
		v[j+4], v[j+5], v[j+6], v[j+7] = byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56)
	}
}

func checkValue(v []byte, i, size int) bool {
	if len(v) != size {
		return false
	}
	want := make([]byte, size)
	fillValue(want, uint64(i))
	return bytes.Equal(v, want)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
