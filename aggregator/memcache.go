package aggregator

import (
	"container/list"
	"sync"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// cacheInfo is what both caches know about a blob besides its bytes.
type cacheInfo struct {
	level level
	// endEpoch is the first epoch in which no certified Blob object is
	// known to keep the blob: at that epoch change the entry leaves.
	endEpoch chain.Epoch
	// checkedAt is when this process last saw the blob live in the
	// ledger (zero: never, e.g. a disk entry left by an earlier process).
	checkedAt time.Time
}

// memEntry is a blob in the memory cache.
type memEntry struct {
	id   codec.BlobID
	info cacheInfo
	data *blobData
}

// memCache is a least-recently-used cache of blobs bounded by the sum of
// their sizes. It is safe for concurrent use.
type memCache struct {
	capacity, maxEntry int64
	onEvict            func(reason string, bytes int64)

	mu    sync.Mutex
	size  int64
	ll    *list.List // of *memEntry, most recent first
	items map[codec.BlobID]*list.Element
}

func newMemCache(capacity, maxEntry int64, onEvict func(string, int64)) *memCache {
	return &memCache{capacity: capacity, maxEntry: maxEntry, onEvict: onEvict,
		ll: list.New(), items: make(map[codec.BlobID]*list.Element)}
}

// get returns the entry of id if it was checked at least at lvl, and
// marks it recently used. The entry's info is a copy.
func (c *memCache) get(id codec.BlobID, lvl level) (memEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok {
		return memEntry{}, false
	}
	e := el.Value.(*memEntry)
	if e.info.level < lvl {
		return memEntry{}, false
	}
	c.ll.MoveToFront(el)
	return *e, true
}

// fits reports whether a blob of size bytes may be kept.
func (c *memCache) fits(size int64) bool { return size <= c.maxEntry && c.capacity > 0 }

// put keeps the blob, replacing an entry of a weaker level, and evicts the
// least recently used entries beyond the capacity.
func (c *memCache) put(id codec.BlobID, info cacheInfo, data *blobData) {
	if !c.fits(data.size) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		e := el.Value.(*memEntry)
		if e.info.level > info.level {
			c.ll.MoveToFront(el)
			return
		}
		c.size += data.size - e.data.size
		e.info, e.data = info, data
		c.ll.MoveToFront(el)
	} else {
		c.items[id] = c.ll.PushFront(&memEntry{id: id, info: info, data: data})
		c.size += data.size
	}
	for c.size > c.capacity {
		el := c.ll.Back()
		c.removeLocked(el, "capacity")
	}
}

func (c *memCache) removeLocked(el *list.Element, reason string) {
	e := el.Value.(*memEntry)
	c.ll.Remove(el)
	delete(c.items, e.id)
	c.size -= e.data.size
	if c.onEvict != nil {
		c.onEvict(reason, e.data.size)
	}
}

// remove drops the blob.
func (c *memCache) remove(id codec.BlobID, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.removeLocked(el, reason)
	}
}

// update changes the info of the blob's entry, if any.
func (c *memCache) update(id codec.BlobID, fn func(*cacheInfo)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		fn(&el.Value.(*memEntry).info)
	}
}

// expire drops every blob whose end epoch is at or before epoch.
func (c *memCache) expire(epoch chain.Epoch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*memEntry).info.endEpoch <= epoch {
			c.removeLocked(el, "expired")
		}
		el = next
	}
}

// stats returns the bytes and number of blobs held.
func (c *memCache) stats() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, len(c.items)
}

// clear drops everything (tests and benchmarks of cold reads).
func (c *memCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
	c.size = 0
}
