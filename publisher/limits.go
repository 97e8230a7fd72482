package publisher

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/haulout/haulout/codec"
)

// admission is Walrus's load shedding of uploads: a number served at once,
// a bounded queue of waiting ones, and 429 beyond both.
type admission struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

func newAdmission(concurrent, buffered int) *admission {
	return &admission{slots: make(chan struct{}, concurrent), maxWaiting: int64(buffered)}
}

// enter takes a slot, waiting in the queue if there is room in it. ok is
// false when the request must be refused (queue full, or ctx ended while
// waiting).
func (a *admission) enter(ctx context.Context) (release func(), ok bool) {
	release = func() { <-a.slots }
	select {
	case a.slots <- struct{}{}:
		return release, true
	default:
	}
	if a.waiting.Add(1) > a.maxWaiting {
		a.waiting.Add(-1)
		return nil, false
	}
	defer a.waiting.Add(-1)
	select {
	case a.slots <- struct{}{}:
		return release, true
	case <-ctx.Done():
		return nil, false
	}
}

// budget is the memory that encodings may hold at once.
type budget struct {
	total int64
	sem   *semaphore.Weighted
	used  atomic.Int64
}

func newBudget(total int64) *budget {
	return &budget{total: total, sem: semaphore.NewWeighted(total)}
}

// acquire takes n bytes, or the whole budget if n exceeds it, waiting for
// them; it returns what was taken, to give back with release.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = max(min(n, b.total), 1)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return 0, err
	}
	b.used.Add(n)
	return n, nil
}

func (b *budget) release(n int64) {
	if n > 0 {
		b.used.Add(-n)
		b.sem.Release(n)
	}
}

// encodeMemory estimates the heap that encoding a blob of size bytes holds:
// all primary and secondary slivers, the n*n leaf hashes, and the blob
// itself where it is read into the heap instead of mapped.
func encodeMemory(c codec.Config, size int64) int64 {
	n := int64(c.NShards())
	p, err1 := c.SliverSize(uint64(size), codec.Primary)
	s, err2 := c.SliverSize(uint64(size), codec.Secondary)
	if err1 != nil || err2 != nil {
		return size
	}
	m := n*(int64(p)+int64(s)) + n*n*32
	if mappedHeapCost {
		m += size
	}
	return m
}
