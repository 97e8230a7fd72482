package storagenode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/storagenode/store"
)

// cursorName is the store cursor that holds the next event to apply.
const cursorName = "events"

// Node is one storage node: its store, its view of the chain, and the
// services that run while Serve does. It is safe for concurrent use.
type Node struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	ledger  Ledger
	pub     bls.PublicKey
	metrics *metrics
	started time.Time
	tlsConf *tls.Config // nil without TLS

	// applyMu serializes the writers of blob records (the follower, the
	// sweep's drops, direct lookups), so that a record written from an
	// older snapshot never lands after a newer one. Lock order: applyMu,
	// dataMu, mu.
	applyMu sync.Mutex
	// dataMu orders writes of blob data against drops of whole blobs:
	// writers hold it shared from their liveness check to their commit;
	// expiry and deletion hold it exclusively.
	dataMu sync.RWMutex

	mu     sync.RWMutex
	epoch  chain.Epoch
	code   codec.Config
	shards []uint16 // the node's shards in epoch, sorted
	owned  map[uint16]bool
	peers  []peer
	blobs  map[codec.BlobID]*blobInfo
	dead   *tombstones

	clientsMu sync.Mutex
	clients   map[string]*nodeclient.Client // by URL, kept across committees

	cursor  atomic.Uint64 // next event to apply (persisted)
	mdCache *lruCache[codec.BlobID, *blobMeta]

	symbolSem chan struct{}
	recovery  *recoverer
}

// peer is another node of the committee.
type peer struct {
	info   chain.NodeInfo
	client *nodeclient.Client
}

// New opens the node's store in cfg.Dir and loads its view of the chain:
// the current epoch and committee from the ledger, then its record of blobs
// and the event cursor from the store. Serve (or Run) starts serving; Close
// closes the store.
func New(ctx context.Context, cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "storagenode", "node_id", cfg.NodeID.String()),
		ledger:    cfg.Ledger,
		pub:       cfg.Key.PublicKey(),
		started:   time.Now(),
		blobs:     make(map[codec.BlobID]*blobInfo),
		dead:      newTombstones(1 << 16),
		clients:   make(map[string]*nodeclient.Client),
		mdCache:   newLRU[codec.BlobID, *blobMeta](cfg.MetadataCacheSize),
		symbolSem: make(chan struct{}, cfg.SymbolRequestLimit),
	}
	if cfg.PeerClient == nil {
		n.cfg.PeerClient = nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	}
	if cfg.TLS.Enabled {
		if n.tlsConf, err = loadTLS(cfg); err != nil {
			return nil, err
		}
	}
	epoch, err := n.ledger.CurrentEpoch(ctx)
	if err != nil {
		return nil, fmt.Errorf("storagenode: current epoch: %w", err)
	}
	committee, err := n.ledger.Committee(ctx, epoch)
	if err != nil {
		return nil, fmt.Errorf("storagenode: committee of epoch %d: %w", epoch, err)
	}
	if err := n.setCommittee(epoch, committee); err != nil {
		return nil, err
	}
	n.metrics = newMetrics(n)
	if n.store, err = store.Open(ctx, filepath.Join(cfg.Dir, "store"), cfg.Store); err != nil {
		return nil, fmt.Errorf("storagenode: %w", err)
	}
	if err := n.load(ctx); err != nil {
		_ = n.store.Close()
		return nil, err
	}
	n.recovery = newRecoverer(n)
	n.log.Info("storage node opened", "epoch", epoch, "shards", len(n.shards), "n_shards", committee.NShards,
		"blobs", len(n.blobs), "event_cursor", n.cursor.Load())
	return n, nil
}

// load reads the event cursor and the blob records from the store.
func (n *Node) load(ctx context.Context) error {
	cur, err := n.store.Cursor(ctx, cursorName)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("storagenode: event cursor: %w", err)
	default:
		v, perr := strconv.ParseUint(string(cur), 10, 64)
		if perr != nil {
			return fmt.Errorf("storagenode: event cursor %q: %w", cur, store.ErrCorrupt)
		}
		n.cursor.Store(v)
	}
	return n.store.ListBlobs(ctx, codec.BlobID{}, func(id codec.BlobID, raw []byte) error {
		info, err := unmarshalBlobInfo(raw)
		if err != nil {
			return fmt.Errorf("storagenode: blob %s: %w", id, err)
		}
		n.blobs[id] = info
		return nil
	})
}

// Close closes the store. Call it after Serve or Run has returned; a Node
// serves once.
func (n *Node) Close() error {
	if err := n.store.Close(); err != nil {
		return fmt.Errorf("storagenode: close store: %w", err)
	}
	return nil
}

// PublicKey returns the node's BLS public key.
func (n *Node) PublicKey() bls.PublicKey { return n.pub }

// setCommittee makes committee, of epoch, the node's view: its shards and
// its peers. The number of shards never changes.
func (n *Node) setCommittee(epoch chain.Epoch, c chain.Committee) error {
	code, err := codec.NewConfig(int(c.NShards))
	if err != nil {
		return fmt.Errorf("storagenode: committee of epoch %d: %w", epoch, err)
	}
	var shards []uint16
	var peers []peer
	for _, node := range c.Nodes {
		if node.ID == n.cfg.NodeID {
			shards = slices.Sorted(slices.Values(node.Shards))
			continue
		}
		cl, err := n.client(node.RESTURL)
		if err != nil {
			n.log.Warn("peer with an unusable URL", "peer", node.Name, "url", node.RESTURL, "err", err)
			continue
		}
		peers = append(peers, peer{info: node, client: cl})
	}
	owned := make(map[uint16]bool, len(shards))
	for _, s := range shards {
		owned[s] = true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if epoch < n.epoch {
		return nil // a newer committee is already in place
	}
	changed := !slices.Equal(shards, n.shards)
	n.epoch, n.code, n.shards, n.owned, n.peers = epoch, code, shards, owned, peers
	if changed {
		for _, b := range n.blobs {
			b.complete = false
		}
	}
	return nil
}

// client returns the (shared) client of the node at url.
func (n *Node) client(url string) (*nodeclient.Client, error) {
	n.clientsMu.Lock()
	defer n.clientsMu.Unlock()
	if c, ok := n.clients[url]; ok {
		return c, nil
	}
	c, err := nodeclient.New(url, nodeclient.WithHTTPClient(n.cfg.PeerClient))
	if err != nil {
		return nil, err
	}
	n.clients[url] = c
	return c, nil
}

// view is a consistent snapshot of what requests need of the node's state.
type view struct {
	epoch  chain.Epoch
	code   codec.Config
	shards []uint16
	owned  map[uint16]bool
	peers  []peer
}

func (n *Node) view() view {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return view{epoch: n.epoch, code: n.code, shards: n.shards, owned: n.owned, peers: n.peers}
}

// nShards is the number of shards of the system.
func (v *view) nShards() int { return v.code.NShards() }

// holds reports whether the node holds the shard of sliver pair pair.
func (v *view) holds(id codec.BlobID, pair uint16) bool {
	return v.owned[uint16(codec.ShardForPair(id, int(pair), v.nShards()))]
}

// pairs returns the sliver pairs the node's shards hold for the blob.
func (v *view) pairs(id codec.BlobID) []uint16 {
	out := make([]uint16, len(v.shards))
	for i, s := range v.shards {
		out[i] = uint16(codec.PairForShard(id, int(s), v.nShards()))
	}
	return out
}

// blob returns a copy of the node's record of the blob, or nil.
func (n *Node) blob(id codec.BlobID) *blobInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if b, ok := n.blobs[id]; ok {
		return b.clone()
	}
	return nil
}

// liveBlob returns the node's record of the blob if the blob is stored in
// the node's epoch. When the node has no live record, it asks the ledger
// directly: a publisher uploads right after registering, often before the
// node has seen the registration event. It returns nil for a blob that is
// not registered, expired, deleted or invalid.
func (n *Node) liveBlob(ctx context.Context, id codec.BlobID) (*blobInfo, error) {
	n.mu.RLock()
	b, ok := n.blobs[id]
	live := ok && b.live(n.epoch)
	invalid := ok && b.Invalid
	n.mu.RUnlock()
	if live {
		return n.blob(id), nil
	}
	if invalid {
		return nil, nil
	}
	return n.lookupBlob(ctx, id)
}

// lookupBlob asks the ledger for the blob's objects and merges them into
// the node's record, persisting the record if it makes the blob live.
func (n *Node) lookupBlob(ctx context.Context, id codec.BlobID) (*blobInfo, error) {
	records, err := n.ledger.BlobObjects(ctx, id)
	if errors.Is(err, chain.ErrBlobNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up blob %s on the ledger: %w", id, err)
	}
	n.metrics.ledgerLookups.Inc()
	n.mu.Lock()
	b, ok := n.blobs[id]
	if !ok {
		b = &blobInfo{}
	}
	changed := false
	for i := range records {
		o := objectFromRecord(&records[i])
		if n.dead.has(o.ID) {
			o.Deleted = true
		}
		changed = b.merge(o) || changed
	}
	live := b.live(n.epoch)
	if live && !ok {
		n.blobs[id] = b
	}
	var snapshot *blobInfo
	if live {
		snapshot = b.clone()
	}
	n.mu.Unlock()
	if !live {
		return nil, nil
	}
	if changed {
		// Persist so that a restart finds the blob even if its events were
		// applied before this record existed (a later event rewrites it),
		// unless it died meanwhile: then the record must not outlive it.
		n.applyMu.Lock()
		defer n.applyMu.Unlock()
		err := n.withLive(id, func() error {
			n.mu.RLock()
			raw := n.blobs[id].marshal()
			n.mu.RUnlock()
			return n.store.PutBlobInfo(ctx, id, raw)
		})
		if errors.Is(err, errNotLive) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("persist blob %s: %w", id, err)
		}
	}
	return snapshot, nil
}

// metadata returns the blob's stored metadata, decoded, or nil if the node
// holds none.
func (n *Node) metadata(ctx context.Context, id codec.BlobID) (*blobMeta, error) {
	if m, ok := n.mdCache.get(id); ok {
		return m, nil
	}
	raw, err := n.store.GetMetadata(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	md, err := codec.UnmarshalMetadataBCS(raw)
	if err != nil {
		return nil, fmt.Errorf("stored metadata of %s: %w: %w", id, store.ErrCorrupt, err)
	}
	m := &blobMeta{md: md, bcs: raw}
	n.mdCache.add(id, m)
	return m, nil
}

// withLive runs write while no expiry or deletion can drop the blob, if
// the blob is still live; otherwise it returns errNotLive.
func (n *Node) withLive(id codec.BlobID, write func() error) error {
	n.dataMu.RLock()
	defer n.dataMu.RUnlock()
	n.mu.RLock()
	b, ok := n.blobs[id]
	live := ok && b.live(n.epoch)
	n.mu.RUnlock()
	if !live {
		return errNotLive
	}
	return write()
}

var errNotLive = errors.New("blob is no longer registered")

// storeID names the sliver of pair on axis a in the store.
func storeID(pair uint16, a codec.Axis) store.SliverID {
	return store.SliverID{Pair: pair, Axis: store.Axis(a)}
}

// missingSlivers lists the slivers of the node's shards that it lacks for
// the blob, and whether it has the metadata.
func (n *Node) missingSlivers(ctx context.Context, id codec.BlobID, v *view) (missing []store.SliverID, hasMetadata bool, err error) {
	if hasMetadata, err = n.store.HasMetadata(ctx, id); err != nil {
		return nil, false, err
	}
	have, err := n.store.ListSlivers(ctx, id)
	if err != nil {
		return nil, false, err
	}
	held := make(map[store.SliverID]bool, len(have))
	for _, s := range have {
		held[s] = true
	}
	for _, p := range v.pairs(id) {
		for _, a := range []codec.Axis{codec.Primary, codec.Secondary} {
			if sid := storeID(p, a); !held[sid] {
				missing = append(missing, sid)
			}
		}
	}
	return missing, hasMetadata, nil
}
