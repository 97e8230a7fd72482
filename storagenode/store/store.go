package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Errors that callers branch on.
var (
	// ErrNotFound: no such metadata, sliver, blob info or cursor.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed: the Store has been closed.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid: an argument the store refuses (unknown axis, oversized
	// value, bad cursor name).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrCorrupt: the data on disk is not what this package writes.
	ErrCorrupt = errors.New("store: corrupt")
)

// MaxValueSize bounds a single sliver, metadata, blob info or cursor value.
// Walrus symbols are at most 65,534 bytes and a sliver holds at most n_shards-f
// of them, so no sliver at 1000 shards exceeds 44 MB.
const MaxValueSize = 64 << 20

// formatVersion is written under versionKey when a store is created; Open
// refuses any other value.
const formatVersion = 1

// Options configures a Store. The zero value is ready to use; defaults are
// applied by Open.
type Options struct {
	// MemTableSize is the size of pebble's in-memory write buffer, and so of
	// each write-ahead log file. Up to about four logs of 1.1×MemTableSize
	// stay allocated on disk for reuse. Default 32 MiB.
	MemTableSize int64
	// CacheSize is pebble's block cache. Default 64 MiB.
	CacheSize int64
	// CommitBytes bounds the value bytes of one durable commit. A Batch
	// larger than this is committed as several commits, in order, so that a
	// batch of hundreds of multi-megabyte slivers neither doubles its memory
	// nor leaves a giant write-ahead log behind. Default 16 MiB.
	CommitBytes int64
	// ReclaimDelay is how long after a deletion the store flushes its write
	// buffer and compacts the deleted ranges so that the space comes back
	// (see Store.Reclaim). Deletions within the delay are reclaimed
	// together. Default 10 s.
	ReclaimDelay time.Duration
	// Logger receives pebble's log and background errors. Default
	// slog.Default().
	Logger *slog.Logger
}

func (o *Options) applyDefaults() {
	if o.MemTableSize <= 0 {
		o.MemTableSize = 32 << 20
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 64 << 20
	}
	if o.CommitBytes <= 0 {
		o.CommitBytes = 16 << 20
	}
	if o.ReclaimDelay <= 0 {
		o.ReclaimDelay = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Store is the durable store of one storage node. It is safe for concurrent
// use; reads never wait for writes.
type Store struct {
	db   *pebble.DB
	opts Options
	log  *slog.Logger

	// Every operation registers in inflight while closed is false; Close
	// sets closed and waits for inflight, so that no call reaches pebble
	// after it is closed (pebble would panic). A call made from inside a
	// callback while Close waits gets ErrClosed rather than a deadlock.
	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup

	reclaim reclaimer
}

// Open opens the store in dir, creating it if needed. Opening replays the
// write-ahead log, so after a crash every write whose call returned is back.
// Only one process may have a store open.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts.applyDefaults()
	log := opts.Logger.With("component", "store", "dir", dir)
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref()
	db, err := pebble.Open(dir, pebbleOptions(opts, cache, log))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if err := checkFormat(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, opts: opts, log: log}
	s.reclaim.start(s)
	return s, nil
}

func checkFormat(db *pebble.DB) error {
	v, closer, err := db.Get(versionKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return db.Set(versionKey, []byte{formatVersion}, pebble.Sync)
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	if len(v) != 1 || v[0] != formatVersion {
		return fmt.Errorf("%w: format version %x, this build reads %d", ErrCorrupt, v, formatVersion)
	}
	return nil
}

// Close stops background work and closes the store. Calls made after Close
// return ErrClosed. Close waits for calls in progress.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.reclaim.stop()
	s.inflight.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// enter is called at the start of every operation: it checks ctx and that
// the store is open, and holds the store open until the returned func runs.
func (s *Store) enter(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.inflight.Add(1)
	return s.inflight.Done, nil
}

// Usage is the disk space of a store, from pebble's metrics.
type Usage struct {
	// DiskBytes is everything the store holds on disk.
	DiskBytes uint64
	// WALBytes is the write-ahead log, including logs kept for reuse.
	WALBytes uint64
	// TableBytes is the sstables: keys, values under 4 KiB, references.
	TableBytes uint64
	// BlobFileBytes is the files that hold values of 4 KiB and more
	// (slivers and most metadata), live or awaiting deletion.
	BlobFileBytes uint64
	// GarbageBytes is the part of live blob files no longer referenced by
	// any key: deleted values that a blob-file rewrite will reclaim.
	GarbageBytes uint64
}

// Usage reports disk usage. It does no I/O.
func (s *Store) Usage() (Usage, error) {
	leave, err := s.enter(context.Background())
	if err != nil {
		return Usage{}, err
	}
	m := s.db.Metrics()
	leave()
	bf := m.BlobFiles
	u := Usage{
		DiskBytes:     m.DiskSpaceUsage(),
		WALBytes:      m.WAL.PhysicalSize + m.WAL.ObsoletePhysicalSize,
		TableBytes:    m.Table.Local.LiveSize + m.Table.Local.ObsoleteSize + m.Table.Local.ZombieSize,
		BlobFileBytes: bf.Local.LiveSize + bf.Local.ObsoleteSize + bf.Local.ZombieSize,
	}
	if bf.ValueSize > bf.ReferencedValueSize {
		u.GarbageBytes = bf.ValueSize - bf.ReferencedValueSize
	}
	return u, nil
}
