package storagenode

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/storagenode/store"
)

// Recovery: a certified blob is meant to be on every node, but a node may
// have been down during the upload, or the publisher may have skipped it
// once it had a quorum. The node then rebuilds what its shards lack: the
// metadata from any peer (checked against the blob ID), and each missing
// sliver from recovery symbols of the other axis, one from each sliver that
// the other nodes' shards (and its own) hold, each checked against its
// Merkle proof. A peer that answers with a bad symbol is logged, counted
// and ignored for that sliver; enough honest peers always remain, since a
// primary sliver needs n-f symbols and a secondary one n-2f.

// recoveryQueueSize bounds the blobs waiting for a worker; beyond it a
// blob waits for the next sweep.
const recoveryQueueSize = 4096

// slivers recovered at once within one blob
const sliverConcurrency = 4

// recoverer schedules and runs the recovery of blobs: at most one task per
// blob, retried with exponential backoff until the blob is complete or
// gone.
type recoverer struct {
	n    *Node
	work chan codec.BlobID

	mu      sync.Mutex
	stopped bool
	tasks   map[codec.BlobID]*recoveryTask
}

type recoveryTask struct {
	timer    *time.Timer // set while waiting
	running  bool
	again    bool // scheduled while running: run once more
	attempts int
}

func newRecoverer(n *Node) *recoverer {
	return &recoverer{n: n, work: make(chan codec.BlobID, recoveryQueueSize), tasks: make(map[codec.BlobID]*recoveryTask)}
}

// schedule asks for the blob to be checked and recovered after delay,
// unless a check is already waiting or running.
func (r *recoverer) schedule(id codec.BlobID, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	t, ok := r.tasks[id]
	if ok {
		if t.running {
			t.again = true
		}
		return
	}
	t = &recoveryTask{}
	r.tasks[id] = t
	r.armLocked(id, t, delay)
	r.n.metrics.recoveryQueue.Set(float64(len(r.tasks)))
}

func (r *recoverer) armLocked(id codec.BlobID, t *recoveryTask, delay time.Duration) {
	t.timer = time.AfterFunc(delay, func() {
		select {
		case r.work <- id:
		default:
			// Full: drop the task; the next sweep finds the blob again.
			r.mu.Lock()
			delete(r.tasks, id)
			r.mu.Unlock()
		}
	})
}

// forget drops waiting tasks of blobs that are gone.
func (r *recoverer) forget(ids map[codec.BlobID]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range ids {
		if t, ok := r.tasks[id]; ok && !t.running {
			t.timer.Stop()
			delete(r.tasks, id)
		}
	}
	r.n.metrics.recoveryQueue.Set(float64(len(r.tasks)))
}

// pending reports how many blobs wait for or undergo recovery.
func (r *recoverer) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tasks)
}

// run runs the workers until ctx ends, then stops every timer.
func (r *recoverer) run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.n.cfg.RecoveryWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-r.work:
					r.runTask(ctx, id)
				}
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	r.stopped = true
	for id, t := range r.tasks {
		if t.timer != nil {
			t.timer.Stop()
		}
		delete(r.tasks, id)
	}
	r.mu.Unlock()
	return nil
}

func (r *recoverer) runTask(ctx context.Context, id codec.BlobID) {
	r.mu.Lock()
	t, ok := r.tasks[id]
	if !ok {
		r.mu.Unlock()
		return
	}
	t.running, t.again = true, false
	r.mu.Unlock()

	err := r.n.recoverBlob(ctx, id)

	r.mu.Lock()
	defer r.mu.Unlock()
	t.running = false
	switch {
	case r.stopped || ctx.Err() != nil:
		delete(r.tasks, id)
	case err != nil:
		t.attempts++
		wait := r.n.cfg.RecoveryBackoff << min(t.attempts-1, 20)
		wait = min(wait, r.n.cfg.RecoveryMaxBackoff)
		r.n.log.Warn("recovery failed", "blob_id", id, "attempt", t.attempts, "retry_in", wait, "err", err)
		r.armLocked(id, t, wait)
	case t.again:
		r.armLocked(id, t, 0)
	default:
		delete(r.tasks, id)
	}
	r.n.metrics.recoveryQueue.Set(float64(len(r.tasks)))
}

// recoverBlob brings the blob's metadata and the slivers of the node's
// shards to the node, if the blob is certified and live. It returns an
// error for what a retry may fix.
func (n *Node) recoverBlob(ctx context.Context, id codec.BlobID) error {
	v := n.view()
	info := n.blob(id)
	if info == nil || !info.certified(v.epoch) || len(v.shards) == 0 {
		return nil
	}
	missing, hasMD, err := n.missingSlivers(ctx, id, &v)
	if err != nil {
		return err
	}
	if len(missing) == 0 && hasMD {
		n.markComplete(id, &v)
		return nil
	}
	meta, err := n.metadata(ctx, id)
	if err != nil {
		return err
	}
	if meta == nil {
		md, err := n.fetchMetadata(ctx, id, &v)
		if err != nil {
			return err
		}
		raw := md.MarshalBCS()
		err = n.withLive(id, func() error { return n.store.PutMetadata(ctx, id, raw) })
		if errors.Is(err, errNotLive) {
			return nil
		}
		if err != nil {
			return err
		}
		meta = &blobMeta{md: md, bcs: raw}
		n.mdCache.add(id, meta)
		n.log.Info("recovered metadata", "blob_id", id)
	}
	if len(missing) == 0 {
		n.markComplete(id, &v)
		return nil
	}

	n.log.Info("recovering slivers", "blob_id", id, "missing", len(missing))
	// Secondary slivers first: each needs only n-2f symbols, and once
	// stored they are symbols towards the primary ones (which need n-f),
	// so a node that lacks everything still recovers while f shards lie.
	recovered := make([]*codec.Sliver, len(missing))
	errs := make([]error, len(missing))
	stored := 0
	for _, phase := range []codec.Axis{codec.Secondary, codec.Primary} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(sliverConcurrency)
		b := n.store.NewBatch()
		var done []int
		var mu sync.Mutex
		for i, sid := range missing {
			if codec.Axis(sid.Axis) != phase {
				continue
			}
			g.Go(func() error {
				sl, err := n.recoverSliver(gctx, id, meta.md, &v, sid)
				recovered[i], errs[i] = sl, err
				if sl != nil {
					mu.Lock()
					done = append(done, i)
					mu.Unlock()
				}
				return nil
			})
		}
		_ = g.Wait()
		if len(done) == 0 {
			continue
		}
		for _, i := range done {
			b.PutSliver(id, missing[i], recovered[i].MarshalBCS())
		}
		err := n.withLive(id, func() error { return b.Commit(ctx) })
		if errors.Is(err, errNotLive) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store recovered slivers: %w", err)
		}
		stored += len(done)
		for _, i := range done {
			n.metrics.slivers.WithLabelValues(missing[i].Axis.String(), "recovery").Inc()
			n.metrics.recovered.WithLabelValues("ok").Inc()
		}
	}
	var failed []error
	for i, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, codec.ErrInconsistentEncoding) {
			// Verified symbols rebuilt a sliver that the metadata does not
			// commit to: the publisher encoded the blob wrongly. No retry
			// can fix it; Walrus would attest this with an inconsistency
			// proof, which haulout does not implement yet.
			n.metrics.recovered.WithLabelValues("inconsistent").Inc()
			n.log.Error("blob is inconsistently encoded", "blob_id", id, "sliver", missing[i], "err", err)
			continue
		}
		n.metrics.recovered.WithLabelValues("failed").Inc()
		failed = append(failed, fmt.Errorf("sliver %s: %w", missing[i], err))
	}
	if len(failed) > 0 {
		return fmt.Errorf("recovered %d of %d slivers: %w", stored, len(missing), errors.Join(failed...))
	}
	n.log.Info("recovered slivers", "blob_id", id, "count", stored)
	return nil
}

// markComplete remembers that the node holds everything of the blob for
// its shards in view v.
func (n *Node) markComplete(id codec.BlobID, v *view) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if b, ok := n.blobs[id]; ok && n.epoch == v.epoch {
		b.complete = true
	}
}

// shuffledPeers returns the peers in random order, to spread load.
func shuffledPeers(v *view) []peer {
	out := append([]peer(nil), v.peers...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// fetchMetadata gets the blob's metadata from the first peer whose answer
// verifies against the blob ID.
func (n *Node) fetchMetadata(ctx context.Context, id codec.BlobID, v *view) (*codec.BlobMetadata, error) {
	var errs []error
	for _, p := range shuffledPeers(v) {
		md, err := p.client.GetMetadata(ctx, id)
		if err == nil {
			err = checkMetadata(&md.BlobMetadata, id, v.nShards())
			if err != nil {
				n.metrics.lyingPeers.WithLabelValues(p.info.Name).Inc()
				n.log.Warn("peer sent metadata that does not verify", "peer", p.info.Name, "blob_id", id, "err", err)
			}
		}
		if err == nil {
			return &md.BlobMetadata, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", p.info.Name, err))
	}
	return nil, fmt.Errorf("no peer gave valid metadata: %w", errors.Join(errs...))
}

// checkMetadata checks metadata against the blob ID and the system's
// number of shards.
func checkMetadata(md *codec.BlobMetadata, id codec.BlobID, nShards int) error {
	if _, err := md.Verify(id); err != nil {
		return err
	}
	if len(md.Hashes) != nShards {
		return fmt.Errorf("%w: %d sliver pairs for %d shards", codec.ErrInvalidMetadata, len(md.Hashes), nShards)
	}
	return nil
}

// recoverSliver rebuilds one sliver of the node's shards from recovery
// symbols: its own first, then every peer's, asked at once and checked as
// they arrive, until enough verified ones are in hand.
func (n *Node) recoverSliver(ctx context.Context, id codec.BlobID, md *codec.BlobMetadata, v *view, sid store.SliverID) (*codec.Sliver, error) {
	target := codec.Axis(sid.Axis)
	index := codec.SliverIndex(sid.Pair, target, v.nShards())
	need := v.code.SourceSymbols(target.Other())

	var mu sync.Mutex
	have := make(map[uint16]codec.RecoverySymbol, need)
	add := func(syms []codec.RecoverySymbol) int {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range syms {
			have[s.Source] = s
		}
		return len(have)
	}
	// The node's own slivers of the other axis are symbols too.
	local, err := n.localSymbols(ctx, id, v, target, index)
	if err != nil {
		return nil, err
	}
	if add(local) < need {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var wg sync.WaitGroup
		for _, p := range shuffledPeers(v) {
			wg.Go(func() {
				syms, err := p.client.RecoverySymbols(ctx, id, target, index)
				if err != nil {
					if ctx.Err() == nil {
						n.log.Debug("recovery symbols from peer", "peer", p.info.Name, "blob_id", id, "err", err)
					}
					return
				}
				good, bad := verifySymbols(v.code, md, target, index, syms)
				if bad != nil {
					n.metrics.lyingPeers.WithLabelValues(p.info.Name).Inc()
					n.log.Warn("peer sent bad recovery symbols; ignoring its answer", "peer", p.info.Name,
						"blob_id", id, "target", fmt.Sprintf("%s/%d", target, index), "err", bad)
					return
				}
				if add(good) >= need {
					cancel()
				}
			})
		}
		wg.Wait()
	}
	syms := make([]codec.RecoverySymbol, 0, len(have))
	for _, s := range have {
		syms = append(syms, s)
	}
	if len(syms) < need {
		return nil, fmt.Errorf("%w: %d verified symbols for %s sliver %d, need %d", codec.ErrNotEnoughSymbols, len(syms), target, index, need)
	}
	return v.code.RecoverSliver(md, target, index, syms)
}

// verifySymbols checks a peer's answer: every symbol must be towards the
// target and carry a proof that verifies. One bad symbol discredits the
// whole answer.
func verifySymbols(code codec.Config, md *codec.BlobMetadata, target codec.Axis, index uint16, syms []codec.RecoverySymbol) ([]codec.RecoverySymbol, error) {
	for i := range syms {
		s := &syms[i]
		if s.Target != target || s.TargetIndex != index {
			return nil, fmt.Errorf("symbol for %s sliver %d, asked for %s sliver %d", s.Target, s.TargetIndex, target, index)
		}
		if err := code.VerifyRecoverySymbol(md, s); err != nil {
			return nil, err
		}
	}
	return syms, nil
}

// localSymbols computes the symbols towards the target that the node's own
// slivers of the other axis give.
func (n *Node) localSymbols(ctx context.Context, id codec.BlobID, v *view, target codec.Axis, index uint16) ([]codec.RecoverySymbol, error) {
	var out []codec.RecoverySymbol
	for _, pair := range v.pairs(id) {
		src, err := n.loadSliver(ctx, id, pair, target.Other())
		if err != nil {
			return nil, err
		}
		if src == nil {
			continue
		}
		syms, err := v.code.RecoverySymbols(src, []uint16{index})
		if err != nil {
			return nil, err
		}
		out = append(out, syms...)
	}
	return out, nil
}

// loadSliver reads and decodes a stored sliver, or returns nil.
func (n *Node) loadSliver(ctx context.Context, id codec.BlobID, pair uint16, a codec.Axis) (*codec.Sliver, error) {
	raw, err := n.store.GetSliver(ctx, id, storeID(pair, a))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := codec.UnmarshalSliverBCS(raw, a)
	if err != nil {
		return nil, fmt.Errorf("stored %s sliver %d of %s: %w: %w", a, pair, id, store.ErrCorrupt, err)
	}
	return s, nil
}
