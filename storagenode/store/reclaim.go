package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/haulout/haulout/codec"
)

// reclaimer gives the space of deleted blobs back. A deletion writes
// tombstones into the memtable; nothing is freed until they are flushed and
// compacted with the sstables that reference the deleted slivers, after
// which pebble deletes the blob files that no live key references (and
// rewrites those that are mostly garbage). Pebble would get there on its own
// as writes continue, but on a node that writes little the memtable may not
// fill for a long time, so ReclaimDelay after a deletion the reclaimer
// flushes and compacts the deleted ranges itself.
type reclaimer struct {
	s    *Store
	kick chan struct{} // capacity 1: a deletion happened
	quit chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	pending []codec.BlobID // deleted and not yet compacted
}

func (r *reclaimer) start(s *Store) {
	r.s = s
	r.kick = make(chan struct{}, 1)
	r.quit = make(chan struct{})
	r.wg.Add(1)
	go r.loop()
}

func (r *reclaimer) stop() {
	close(r.quit)
	r.wg.Wait()
}

func (r *reclaimer) deleted(id codec.BlobID) {
	r.mu.Lock()
	r.pending = append(r.pending, id)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *reclaimer) take() []codec.BlobID {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.pending
	r.pending = nil
	return ids
}

func (r *reclaimer) giveBack(ids []codec.BlobID) {
	r.mu.Lock()
	r.pending = append(r.pending, ids...)
	r.mu.Unlock()
}

func (r *reclaimer) loop() {
	defer r.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.quit
		cancel()
	}()
	for {
		select {
		case <-r.quit:
			return
		case <-r.kick:
		}
		select {
		case <-r.quit:
			return
		case <-time.After(r.s.opts.ReclaimDelay):
		}
		if err := r.s.Reclaim(ctx); err != nil && ctx.Err() == nil {
			r.s.log.Warn("store reclaim failed", "err", err)
		}
	}
}

// maxCompactions bounds the manual compactions of one Reclaim: beyond it,
// neighbouring deleted blobs share one compaction of the key range between
// them (which rewrites only keys and references of the live blobs in it,
// never their slivers).
const maxCompactions = 64

// Reclaim gives back now the space of blobs deleted and not yet reclaimed:
// it flushes the write buffer and compacts the deleted key ranges, which
// drops the blob files holding their slivers. The store also does this by
// itself, ReclaimDelay after a deletion. Slivers that share a blob file with
// live ones are reclaimed when pebble rewrites that file, once a fifth of it
// is garbage and it is five minutes old.
func (s *Store) Reclaim(ctx context.Context) error {
	leave, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	ids := s.reclaim.take()
	if err := s.db.Flush(); err != nil {
		s.reclaim.giveBack(ids)
		return fmt.Errorf("store: reclaim: %w", err)
	}
	spans := compactionSpans(ids)
	for i, sp := range spans {
		if err := s.db.Compact(ctx, sp.start, sp.end, false); err != nil {
			for _, rest := range spans[i:] {
				s.reclaim.giveBack(rest.ids)
			}
			return fmt.Errorf("store: reclaim: %w", err)
		}
	}
	return nil
}

type span struct {
	start, end []byte
	ids        []codec.BlobID
}

// compactionSpans returns at most maxCompactions key ranges that together
// cover the slivers of ids.
func compactionSpans(ids []codec.BlobID) []span {
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b codec.BlobID) int { return bytes.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	per := (len(ids) + maxCompactions - 1) / maxCompactions
	var spans []span
	for len(ids) > 0 {
		n := min(per, len(ids))
		group := ids[:n]
		ids = ids[n:]
		start, _ := sliverSpan(group[0])
		_, end := sliverSpan(group[n-1])
		spans = append(spans, span{start: start, end: end, ids: group})
	}
	return spans
}
