package aggregator

import (
	"container/list"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/haulout/haulout/codec"
)

// lru is a least-recently-used map bounded by the sum of its entries'
// sizes. It is safe for concurrent use; values are shared, not copied, so
// they must not be modified once put.
type lru[K comparable, V any] struct {
	capacity, maxEntry int64

	mu    sync.Mutex
	size  int64
	ll    *list.List // of *lruEntry, most recent first
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key  K
	val  V
	size int64
}

func newLRU[K comparable, V any](capacity, maxEntry int64) *lru[K, V] {
	return &lru[K, V]{capacity: capacity, maxEntry: maxEntry, ll: list.New(), items: make(map[K]*list.Element)}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*lruEntry[K, V]).val, true
}

// put adds or replaces k; an entry larger than maxEntry is not kept.
func (c *lru[K, V]) put(k K, v V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
	if size > c.maxEntry || size > c.capacity {
		return
	}
	c.items[k] = c.ll.PushFront(&lruEntry[K, V]{k, v, size})
	c.size += size
	for c.size > c.capacity {
		c.removeLocked(c.ll.Back())
	}
}

func (c *lru[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
}

// removeIf removes every entry whose key matches.
func (c *lru[K, V]) removeIf(match func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		if match(k) {
			c.removeLocked(el)
		}
	}
}

func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *lru[K, V]) removeLocked(el *list.Element) {
	e := el.Value.(*lruEntry[K, V])
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.size -= e.size
}

// quiltInfo is what a quilt's patch reads share: its verified metadata
// (to check columns against) and, once read, its index. It is replaced,
// never modified, once cached.
type quiltInfo struct {
	md    *codec.Metadata
	cfg   codec.Config
	index *codec.QuiltIndex // nil until some read needed it
	life  blobLife
	// notQuilt: the blob's size or index is not a quilt's (remembered so
	// that asking again costs no node request).
	notQuilt bool
}

// usable returns the info, or 404 for a blob that is not a quilt.
func (q *quiltInfo) usable() (*quiltInfo, error) {
	if q.notQuilt {
		return nil, errPatchNotFound("the blob is not a quilt")
	}
	return q, nil
}

// size estimates the memory an entry holds: the metadata's hashes and
// the index's strings.
func (q *quiltInfo) size() int64 {
	n := int64(256 + 66*len(q.md.Hashes))
	if q.index != nil {
		for _, p := range q.index.Patches {
			n += int64(64 + len(p.Identifier))
			for k, v := range p.Tags {
				n += int64(32 + len(k) + len(v))
			}
		}
	}
	return n
}

// patchKey names a patch by its columns, which the index maps
// identifiers to.
type patchKey struct {
	quilt codec.BlobID
	cols  codec.QuiltPatchInternalID
}

// Bounds of the quilt caches. Patches take an eighth of the memory cache
// (the blob cache keeps the rest); indexes are small, at most ten columns.
const (
	quiltIndexCacheSize = 64 << 20
	quiltIndexMaxEntry  = 16 << 20
	patchCacheShare     = 8
)

// quiltReads holds the state of quilt patch reads: the quilts' metadata
// and indexes, recently read patches, and the reads in flight (requests
// for the same index or patch share one).
type quiltReads struct {
	infos   *lru[codec.BlobID, *quiltInfo]
	patches *lru[patchKey, *quiltPatch]
	group   singleflight.Group

	reads       *prometheus.CounterVec
	columnBytes prometheus.Counter
	recovered   prometheus.Counter
}

func newQuiltReads(cfg Config, reg prometheus.Registerer) *quiltReads {
	q := &quiltReads{
		infos:   newLRU[codec.BlobID, *quiltInfo](quiltIndexCacheSize, quiltIndexMaxEntry),
		patches: newLRU[patchKey, *quiltPatch](cfg.MemoryCacheSize/patchCacheShare, cfg.MemoryCacheMaxEntry),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "haulout", Subsystem: "aggregator", Name: "quilt_patch_reads_total",
			Help: "Quilt patch reads by where the bytes came from: cache, columns (the patch's secondary slivers), blob (the whole quilt).",
		}, []string{"source"}),
		columnBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "haulout", Subsystem: "aggregator", Name: "quilt_column_bytes_total",
			Help: "Bytes of verified secondary slivers (quilt columns) fetched or recovered for patch reads.",
		}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "haulout", Subsystem: "aggregator", Name: "quilt_columns_recovered_total",
			Help: "Quilt columns rebuilt from recovery symbols because their node failed, was slow or lied.",
		}),
	}
	reg.MustRegister(q.reads, q.columnBytes, q.recovered)
	return q
}

// forget drops what is cached of a quilt that is gone.
func (q *quiltReads) forget(id codec.BlobID) {
	q.infos.remove(id)
	q.patches.removeIf(func(k patchKey) bool { return k.quilt == id })
}
