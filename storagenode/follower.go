package storagenode

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/storagenode/store"
)

// eventPage is how many events the node asks for at a time. A page is
// applied with one durable commit of the records it changes and the
// cursor after it.
const eventPage = 256

// follow applies the ledger's events from the stored cursor on until ctx
// ends. Applying an event is idempotent and the cursor moves in the same
// commit as the records, so a crash at any point replays at most the page
// it was in. (chain.Follow hands over one event at a time; the node reads
// pages itself so that a page costs one fsync, not one per event, which
// matters when a node catches up on a long history.)
func (n *Node) follow(ctx context.Context) error {
	backoff := time.Second
	for {
		from := n.cursor.Load()
		events, err := n.ledger.WaitEvents(ctx, from, eventPage)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = n.applyEvents(ctx, events)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			n.log.Warn("following ledger events", "from", from, "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// applyEvents applies one page of events: memory first, under the locks
// that order it against uploads, then one commit with every changed
// record, every dropped blob and the cursor.
func (n *Node) applyEvents(ctx context.Context, events []chain.Event) error {
	if len(events) == 0 {
		return nil
	}
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	// A new committee is fetched before taking the data locks.
	var newEpoch chain.Epoch
	var newCommittee *chain.Committee
	cur := n.view().epoch
	for _, e := range events {
		if e.Kind == chain.EventEpochChange && e.Epoch > max(cur, newEpoch) {
			newEpoch = e.Epoch
		}
	}
	if newEpoch > 0 {
		c, err := n.ledger.Committee(ctx, newEpoch)
		if err != nil {
			return fmt.Errorf("committee of epoch %d: %w", newEpoch, err)
		}
		newCommittee = &c
	}

	// Only deletions, invalidations and epoch changes can end a blob: only
	// they need uploads held off (registrations and certifications do not).
	exclusive := newCommittee != nil
	for _, e := range events {
		exclusive = exclusive || e.Kind == chain.EventDeleted || e.Kind == chain.EventInvalid
	}
	if exclusive {
		n.dataMu.Lock()
		defer n.dataMu.Unlock()
	}
	if newCommittee != nil {
		if err := n.setCommittee(newEpoch, *newCommittee); err != nil {
			return err
		}
		n.log.Info("epoch change", "epoch", newEpoch, "shards", len(n.view().shards))
	}

	changed := make(map[codec.BlobID]bool)
	var certified []codec.BlobID
	n.mu.Lock()
	for _, e := range events {
		if n.applyEvent(e) {
			changed[e.BlobID] = true
		}
		if e.Kind == chain.EventCertified {
			certified = append(certified, e.BlobID)
		}
	}
	var drop map[codec.BlobID]dropped
	if exclusive {
		drop = n.deadBlobsLocked(changed, newCommittee != nil)
	}
	b := n.store.NewBatch()
	for id := range changed {
		if _, gone := drop[id]; gone {
			continue
		}
		if info, ok := n.blobs[id]; ok {
			b.PutBlobInfo(id, info.marshal())
		}
	}
	n.dropInBatch(b, drop)
	next := events[len(events)-1].Cursor + 1
	b.SetCursor(cursorName, []byte(strconv.FormatUint(next, 10)))
	n.mu.Unlock()

	if err := b.Commit(ctx); err != nil {
		// Memory is ahead of the store. Replaying the page from the stored
		// cursor brings them together (events are idempotent); the dropped
		// blobs go back into memory so that the replay drops them again.
		n.undrop(drop)
		return fmt.Errorf("commit events up to %d: %w", next-1, err)
	}
	n.cursor.Store(next)
	n.dropped(drop)
	for _, id := range certified {
		if _, gone := drop[id]; !gone {
			n.recovery.schedule(id, n.cfg.RecoveryDelay)
		}
	}
	return nil
}

// dropped is a blob taken out of memory to be dropped from the store.
type dropped struct {
	reason string
	info   *blobInfo // the record before
}

// dropInBatch adds the deletion of blobs to b (n.mu held). Invalid blobs
// keep a bare record, without data, so that uploads stay refused.
func (n *Node) dropInBatch(b *store.Batch, drop map[codec.BlobID]dropped) {
	for id, d := range drop {
		b.DeleteBlob(id)
		if d.reason == "invalid" {
			b.PutBlobInfo(id, (&blobInfo{Invalid: true}).marshal())
		}
	}
}

// undrop puts back the records of blobs whose drop did not commit.
func (n *Node) undrop(drop map[codec.BlobID]dropped) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, d := range drop {
		if cur, ok := n.blobs[id]; !ok || d.reason == "invalid" && len(cur.Objects) == 0 {
			n.blobs[id] = d.info
		}
	}
}

// dropped finishes the drop of blobs once it is durable.
func (n *Node) dropped(drop map[codec.BlobID]dropped) {
	if len(drop) == 0 {
		return
	}
	ids := make(map[codec.BlobID]string, len(drop))
	for id, d := range drop {
		n.log.Info("dropped blob", "blob_id", id, "reason", d.reason)
		n.mdCache.remove(id)
		n.metrics.blobsDropped.WithLabelValues(d.reason).Inc()
		ids[id] = d.reason
	}
	n.recovery.forget(ids)
}

// applyEvent applies one event to the in-memory records (n.mu held) and
// reports whether the blob's record changed.
func (n *Node) applyEvent(e chain.Event) bool {
	switch e.Kind {
	case chain.EventRegistered, chain.EventCertified, chain.EventDeleted:
		b, ok := n.blobs[e.BlobID]
		if !ok {
			if e.Kind == chain.EventDeleted || e.EndEpoch <= n.epoch {
				// Nothing to keep for an object that is already gone.
				if e.Kind == chain.EventDeleted {
					n.dead.add(e.ObjectID)
				}
				return false
			}
			b = &blobInfo{}
			n.blobs[e.BlobID] = b
		}
		o := objectInfo{ID: e.ObjectID, EndEpoch: e.EndEpoch, Deletable: e.Deletable}
		switch e.Kind {
		case chain.EventCertified:
			o.Certified = true
		case chain.EventDeleted:
			o.Deleted = true
			n.dead.add(e.ObjectID)
		}
		return b.merge(o)
	case chain.EventInvalid:
		b, ok := n.blobs[e.BlobID]
		if !ok {
			b = &blobInfo{}
			n.blobs[e.BlobID] = b
		}
		if b.Invalid {
			return false
		}
		b.Invalid = true
		return true
	}
	return false
}

// deadBlobsLocked takes the blobs to drop out of memory: among the changed
// ones, or all of them after an epoch change. Invalid blobs keep a bare
// record. n.mu is held.
func (n *Node) deadBlobsLocked(changed map[codec.BlobID]bool, all bool) map[codec.BlobID]dropped {
	drop := make(map[codec.BlobID]dropped)
	check := func(id codec.BlobID, b *blobInfo) {
		if b.live(n.epoch) {
			return
		}
		switch {
		case b.Invalid:
			if len(b.Objects) == 0 && !changed[id] {
				return // already dropped
			}
			drop[id] = dropped{reason: "invalid", info: b}
			n.blobs[id] = &blobInfo{Invalid: true}
			return
		case diedByDeletion(b, n.epoch):
			drop[id] = dropped{reason: "deleted", info: b}
		default:
			drop[id] = dropped{reason: "expired", info: b}
		}
		delete(n.blobs, id)
	}
	if all {
		for id, b := range n.blobs {
			check(id, b)
		}
		return drop
	}
	for id := range changed {
		if b, ok := n.blobs[id]; ok {
			check(id, b)
		}
	}
	return drop
}

// diedByDeletion reports whether the blob died by deletion rather than
// expiry: some object was deleted before its end epoch.
func diedByDeletion(b *blobInfo, epoch chain.Epoch) bool {
	for _, o := range b.Objects {
		if o.Deleted && epoch < o.EndEpoch {
			return true
		}
	}
	return false
}

// sweep drops blobs that expired by time (the ledger advanced its epoch
// while the node missed the event, or records written by lookups) and
// schedules recovery of certified blobs the node does not fully hold.
func (n *Node) sweep(ctx context.Context) error {
	// Refresh the epoch from the ledger: if the follower lags, expiry must
	// not wait for it.
	if epoch, err := n.ledger.CurrentEpoch(ctx); err == nil && epoch > n.view().epoch {
		c, err := n.ledger.Committee(ctx, epoch)
		if err == nil {
			n.dataMu.Lock()
			err = n.setCommittee(epoch, c)
			n.dataMu.Unlock()
		}
		if err != nil {
			n.log.Warn("refreshing the committee", "epoch", epoch, "err", err)
		}
	}
	if err := n.dropDead(ctx); err != nil {
		return err
	}
	v := n.view()
	var certified []codec.BlobID
	n.mu.RLock()
	for id, b := range n.blobs {
		if b.certified(v.epoch) && !b.complete {
			certified = append(certified, id)
		}
	}
	n.mu.RUnlock()
	for _, id := range certified {
		missing, hasMD, err := n.missingSlivers(ctx, id, &v)
		if err != nil {
			if errors.Is(err, store.ErrClosed) {
				return nil
			}
			return err
		}
		if len(missing) > 0 || !hasMD {
			n.recovery.schedule(id, 0)
		} else {
			n.markComplete(id, &v)
		}
	}
	return nil
}

// dropDead drops every blob that is no longer live in the node's epoch.
func (n *Node) dropDead(ctx context.Context) error {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	n.dataMu.Lock()
	defer n.dataMu.Unlock()
	n.mu.Lock()
	drop := n.deadBlobsLocked(nil, true)
	if len(drop) == 0 {
		n.mu.Unlock()
		return nil
	}
	b := n.store.NewBatch()
	n.dropInBatch(b, drop)
	n.mu.Unlock()
	if err := b.Commit(ctx); err != nil {
		n.undrop(drop)
		return fmt.Errorf("drop %d blobs: %w", len(drop), err)
	}
	n.dropped(drop)
	return nil
}

// sweepLoop runs sweep at start and every SweepInterval until ctx ends.
func (n *Node) sweepLoop(ctx context.Context) error {
	t := time.NewTicker(n.cfg.SweepInterval)
	defer t.Stop()
	for {
		if err := n.sweep(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
