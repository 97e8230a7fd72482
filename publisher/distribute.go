package publisher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher/jobs"
)

// errLying: a node answered with a confirmation that does not verify under
// its key or is not the one asked for. It is not asked again.
var errLying = errors.New("invalid storage confirmation")

// errEpochChanged: the ledger refused the certificate because the epoch
// moved on; confirmations must be collected again from the new committee.
var errEpochChanged = errors.New("epoch changed during the upload")

// nodeKey names a node in a job's progress: its node ID.
func nodeKey(n chain.NodeInfo) string { return n.ID.String() }

// sender delivers one blob to one storage node: metadata, then its slivers
// in batches, then (until the blob is certified) a storage confirmation.
type sender struct {
	idx     int // the node's index in the committee (a certificate signer index)
	pos     int // the sender's index in delivery.senders, which events carry
	info    chain.NodeInfo
	weight  int
	client  Node
	batches [][]sliverRef
	sentB   []bool // batches the node acknowledged
	bytes   int64
	// sent: the node holds its slivers (from this run or, for a resumed
	// job, a previous one; a failed confirmation then sends them again).
	sent     bool
	resumed  bool
	attempts int
}

// nodeEvent is a change in one node's progress.
type nodeEvent struct {
	idx      int
	state    jobs.NodeState
	attempts int
	err      error
	signed   *chain.SignedMessage
	final    bool // the sender is finished
}

// delivery is one blob's distribution over one committee.
type delivery struct {
	t           *task
	committee   chain.Committee
	enc         *encoded
	id          codec.BlobID
	persistence chain.BlobPersistence
	want        []byte // the confirmation every node must sign
	senders     []*sender
	events      chan nodeEvent
	// certified stops the senders asking for confirmations.
	certified atomic.Bool
}

// newDelivery prepares the senders of every node of committee, or of the
// unfinished ones only when the blob is certified already. prior is the
// job's node progress.
func (t *task) newDelivery(committee chain.Committee, enc *encoded, rec chain.BlobRecord, prior map[string]jobs.NodeProgress) (*delivery, error) {
	n := int(committee.NShards)
	d := &delivery{
		t:           t,
		committee:   committee,
		enc:         enc,
		id:          enc.Metadata.ID,
		persistence: rec.Persistence(),
	}
	d.certified.Store(rec.Certified())
	for i, info := range committee.Nodes {
		pr, known := prior[nodeKey(info)]
		if rec.Certified() && known && pr.State != jobs.NodePending {
			continue // finished with this node in an earlier run
		}
		client, err := t.p.node(info)
		if err != nil {
			return nil, err
		}
		s := &sender{idx: i, info: info, weight: len(info.Shards), client: client}
		if known {
			s.attempts = pr.Attempts
			s.sent = pr.State == jobs.NodeSent || pr.State == jobs.NodeConfirmed
			s.resumed = s.sent
		}
		s.batches = splitBatches(enc, info.Shards, n, t.p.cfg.BatchBytes)
		s.sentB = make([]bool, len(s.batches))
		for _, b := range s.batches {
			for _, r := range b {
				s.bytes += int64(r.size)
			}
		}
		s.pos = len(d.senders)
		d.senders = append(d.senders, s)
	}
	d.events = make(chan nodeEvent, 4*len(d.senders)+4)
	return d, nil
}

// splitBatches lists a node's slivers (both of each pair its shards hold)
// in batches of at most about maxBytes of sliver data.
func splitBatches(enc *encoded, shards []uint16, n, maxBytes int) [][]sliverRef {
	var out [][]sliverRef
	var cur []sliverRef
	size := 0
	add := func(r sliverRef) {
		if len(cur) > 0 && size+r.size > maxBytes {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, r)
		size += r.size
	}
	// The metadata is the publisher's own encoding's: it is valid.
	code, _ := enc.Metadata.Config()
	ss, _ := code.SymbolSize(enc.Metadata.UnencodedLength)
	for _, s := range shards {
		pair := uint16(codec.PairForShard(enc.Metadata.ID, int(s), n))
		for _, a := range []codec.Axis{codec.Primary, codec.Secondary} {
			add(sliverRef{pair: pair, axis: a, index: codec.SliverIndex(pair, a, n), size: ss * code.SliverSymbols(a)})
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// run sends to every node and, unless the blob is certified already,
// certifies it with the first quorum of confirmations (calling certified
// with the record), then waits for the remaining nodes to be done. It
// returns errNoQuorum when the confirmations cannot (or did not in time)
// reach a quorum, errEpochChanged when the ledger refused the certificate
// for its epoch.
func (d *delivery) run(ctx context.Context, rec chain.BlobRecord, certified func(chain.BlobRecord, chain.Certificate, int) error) error {
	p := d.t.p
	if !d.certified.Load() {
		conf := chain.StorageConfirmation{Epoch: d.committee.Epoch, BlobID: d.id, Persistence: d.persistence}
		d.want = conf.Bytes()
	}
	// Deferred in this order, stop runs first: senders blocked on events
	// end, then they are waited for.
	var wg sync.WaitGroup
	defer wg.Wait()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	// finished: the senders whose final event came.
	finished := make([]bool, len(d.senders))
	if d.certified.Load() {
		d.keepUnfinished(finished)
	}
	for _, s := range d.senders {
		wg.Go(func() { d.send(sctx, s) })
	}

	var quorum <-chan time.Time
	if !d.certified.Load() {
		timer := time.NewTimer(p.cfg.QuorumTimeout)
		defer timer.Stop()
		quorum = timer.C
	}
	start := time.Now()
	total := 0
	for _, n := range d.committee.Nodes {
		total += len(n.Shards)
	}
	need := d.committee.QuorumWeight()
	var signers []uint16
	var sigs []bls.Signature
	var unverified []nodeEvent
	confirmed, unverifiedWeight, lost := 0, 0, 0
	// accept records a checked confirmation (or the node's lie).
	accept := func(ev nodeEvent, valid bool) error {
		s := d.senders[ev.idx]
		if !valid {
			p.metrics.nodeSends.WithLabelValues("invalid_confirmation").Inc()
			p.metrics.nodeSends.WithLabelValues("given_up").Inc()
			ev.state, ev.signed, ev.err = jobs.NodeGivenUp, nil, fmt.Errorf("%w: the signature does not verify under the node's key", errLying)
			lost += s.weight
		} else {
			p.metrics.nodeSends.WithLabelValues("confirmed").Inc()
			signers = append(signers, uint16(s.idx))
			sigs = append(sigs, ev.signed.Signature)
			confirmed += s.weight
		}
		return d.t.recordNode(ctx, s.info, ev)
	}
	pending := len(d.senders)
	for pending > 0 {
		var ev nodeEvent
		select {
		case ev = <-d.events:
		case <-quorum:
			return fmt.Errorf("%w: %d of %d shards confirmed after %s", errNoQuorum, confirmed, need, p.cfg.QuorumTimeout)
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		s := d.senders[ev.idx]
		if ev.final {
			pending--
			finished[ev.idx] = true
			d.enc.drop(s.refs())
		}
		switch {
		case ev.state == jobs.NodeConfirmed && d.certified.Load():
			// Not needed any more: checked alone, for the record.
			if err := accept(ev, d.verify(ev)); err != nil {
				return err
			}
			continue
		case ev.state == jobs.NodeConfirmed:
			// Signatures are checked together once they may make a
			// quorum: one pairing check instead of one per node.
			unverified = append(unverified, ev)
			unverifiedWeight += s.weight
		default:
			if ev.state == jobs.NodeGivenUp {
				lost += s.weight
			}
			if err := d.t.recordNode(ctx, s.info, ev); err != nil {
				return err
			}
		}
		if d.certified.Load() {
			continue
		}
		if len(unverified) > 0 && confirmed+unverifiedWeight >= need {
			for i, ok := range d.verifyAll(unverified) {
				if err := accept(unverified[i], ok); err != nil {
					return err
				}
			}
			unverified, unverifiedWeight = nil, 0
		}
		if confirmed >= need {
			p.metrics.stepDuration.WithLabelValues("distribute").Observe(time.Since(start).Seconds())
			rec2, cert, err := d.certify(ctx, rec, signers, sigs)
			if err != nil {
				return err
			}
			d.certified.Store(true)
			quorum = nil
			if err := certified(rec2, cert, confirmed); err != nil {
				return err
			}
			d.keepUnfinished(finished)
			start = time.Now()
			continue
		}
		if total-lost < need {
			return fmt.Errorf("%w: nodes holding %d of %d shards were given up on; a quorum needs %d", errNoQuorum, lost, total, need)
		}
	}
	if d.certified.Load() {
		p.metrics.stepDuration.WithLabelValues("background").Observe(time.Since(start).Seconds())
		return nil
	}
	return fmt.Errorf("%w: %d of %d shards confirmed", errNoQuorum, confirmed, need)
}

// keepUnfinished keeps in memory only the slivers of the senders not
// finished: once the blob is certified, only slow nodes still need theirs.
func (d *delivery) keepUnfinished(finished []bool) {
	var keep [][]sliverRef
	for i, s := range d.senders {
		if !finished[i] {
			keep = append(keep, s.refs())
		}
	}
	d.enc.keepOnly(keep)
	if n := d.enc.retainedBytes(); n > 0 {
		d.t.log.Debug("certified: keeping the slivers of the nodes still served", "nodes", len(keep), "bytes", n)
	}
}

// refs lists all the sender's slivers.
func (s *sender) refs() []sliverRef {
	var out []sliverRef
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

// verify checks one confirmation's signature under its node's key.
func (d *delivery) verify(ev nodeEvent) bool {
	return ev.signed.Verify(d.senders[ev.idx].info.PublicKey) == nil
}

// verifyAll checks the signatures of confirmations, all over d.want: their
// aggregate against the sum of the keys first, which holds when every one
// is valid (the committee's keys come with proofs of possession, which
// makes this sound); one by one only when it does not, to find the liars.
func (d *delivery) verifyAll(evs []nodeEvent) []bool {
	ok := make([]bool, len(evs))
	pks := make([]bls.PublicKey, len(evs))
	sigs := make([]bls.Signature, len(evs))
	for i, ev := range evs {
		pks[i], sigs[i] = d.senders[ev.idx].info.PublicKey, ev.signed.Signature
	}
	if agg, err := bls.Aggregate(sigs); err == nil && bls.VerifyAggregate(pks, d.want, agg) == nil {
		for i := range ok {
			ok[i] = true
		}
		return ok
	}
	for i, ev := range evs {
		ok[i] = d.verify(ev)
	}
	return ok
}

// certify submits the certificate of the confirmations gathered. A blob
// certified meanwhile (by an earlier run of this job that died before
// recording it) counts as certified.
func (d *delivery) certify(ctx context.Context, rec chain.BlobRecord, signers []uint16, sigs []bls.Signature) (chain.BlobRecord, chain.Certificate, error) {
	p := d.t.p
	start := time.Now()
	order := make([]int, len(signers))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(signers[a]) - int(signers[b]) })
	ss := make([]uint16, len(order))
	gs := make([]bls.Signature, len(order))
	for i, o := range order {
		ss[i], gs[i] = signers[o], sigs[o]
	}
	cert, err := chain.NewCertificate(ss, d.want, gs)
	if err != nil {
		return rec, cert, fmt.Errorf("certificate: %w", err)
	}
	out, err := p.cfg.Ledger.Certify(ctx, rec.ObjectID, cert)
	switch {
	case errors.Is(err, chain.ErrAlreadyCertified):
		out, err = p.cfg.Ledger.Blob(ctx, rec.ObjectID)
		if err != nil {
			return rec, cert, fmt.Errorf("ledger: blob object: %w", err)
		}
	case errors.Is(err, chain.ErrEpochMismatch):
		return rec, cert, fmt.Errorf("%w: %v", errEpochChanged, err)
	case err != nil:
		return rec, cert, fmt.Errorf("ledger: certify: %w", err)
	}
	p.metrics.stepDuration.WithLabelValues("certify").Observe(time.Since(start).Seconds())
	return out, cert, nil
}

// emit reports a sender's progress to run.
func (d *delivery) emit(ctx context.Context, ev nodeEvent) {
	select {
	case d.events <- ev:
	case <-ctx.Done():
	}
}

// send is one node's sender: up to NodeAttempts attempts, with a doubling
// backoff between them. A node that lies is given up on at once.
func (d *delivery) send(ctx context.Context, s *sender) {
	p := d.t.p
	backoff := p.cfg.RetryBackoff
	var last error
	for attempt := 1; attempt <= p.cfg.NodeAttempts; attempt++ {
		if attempt > 1 {
			p.metrics.nodeSends.WithLabelValues("retry").Inc()
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, p.cfg.MaxRetryBackoff)
		}
		s.attempts++
		if !s.sent {
			if err := d.upload(ctx, s); err != nil {
				if ctx.Err() != nil {
					return
				}
				last = err
				d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodePending, attempts: s.attempts, err: err})
				continue
			}
			s.sent = true
			p.metrics.nodeSends.WithLabelValues("sent").Inc()
			if d.certified.Load() {
				d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeSent, attempts: s.attempts, final: true})
				return
			}
			d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeSent, attempts: s.attempts})
		}
		if d.certified.Load() {
			d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeSent, attempts: s.attempts, final: true})
			return
		}
		signed, err := d.confirm(ctx, s)
		if errors.Is(err, errLying) {
			p.metrics.nodeSends.WithLabelValues("invalid_confirmation").Inc()
			p.metrics.nodeSends.WithLabelValues("given_up").Inc()
			d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeGivenUp, attempts: s.attempts, err: err, final: true})
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			last = err
			if s.resumed {
				// The node may have lost what an earlier run sent: send again.
				s.sent, s.resumed = false, false
			}
			d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeSent, attempts: s.attempts, err: err})
			continue
		}
		d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeConfirmed, attempts: s.attempts, signed: &signed, final: true})
		return
	}
	p.metrics.nodeSends.WithLabelValues("given_up").Inc()
	d.emit(ctx, nodeEvent{idx: s.pos, state: jobs.NodeGivenUp, attempts: s.attempts, err: last, final: true})
}

// upload sends the metadata and every batch not yet acknowledged, at most
// NodeConcurrency requests at a time.
func (d *delivery) upload(ctx context.Context, s *sender) error {
	p := d.t.p
	mctx, cancel := context.WithTimeout(ctx, p.cfg.NodeRequestTimeout)
	err := s.client.PutMetadata(mctx, d.id, &d.enc.Metadata.BlobMetadata)
	cancel()
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.NodeConcurrency)
	for i, b := range s.batches {
		if s.sentB[i] {
			continue
		}
		g.Go(func() error {
			slivers, free, err := d.enc.batch(gctx, b)
			if err != nil {
				return fmt.Errorf("slivers: %w", err)
			}
			defer free()
			bctx, cancel := context.WithTimeout(gctx, p.cfg.NodeRequestTimeout)
			defer cancel()
			if _, err := s.client.PutSlivers(bctx, d.id, slivers); err != nil {
				return fmt.Errorf("slivers: %w", err)
			}
			s.sentB[i] = true
			n := 0
			for _, r := range b {
				n += r.size
			}
			p.metrics.sliverBytes.Add(float64(n))
			return nil
		})
	}
	return g.Wait()
}

// confirm asks the node for its storage confirmation and checks it: the
// signature under the node's key in the committee, and the message, which
// must be exactly the confirmation asked for (this epoch, this blob, this
// persistence), since all the signatures are aggregated over one message.
func (d *delivery) confirm(ctx context.Context, s *sender) (chain.SignedMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, d.t.p.cfg.NodeRequestTimeout)
	defer cancel()
	sm, err := s.client.Confirmation(cctx, d.id, d.persistence)
	if err != nil {
		return sm, fmt.Errorf("confirmation: %w", err)
	}
	// The signature is checked by run, with the others'.
	if bytes.Equal(sm.SerializedMessage, d.want) {
		return sm, nil
	}
	got, err := chain.ParseStorageConfirmation(sm.SerializedMessage)
	if err == nil && got.Epoch != d.committee.Epoch && got.BlobID == d.id && got.Persistence == d.persistence {
		// Signed in another epoch: the node is behind or ahead; ask again.
		return sm, fmt.Errorf("confirmation for epoch %d, not %d", got.Epoch, d.committee.Epoch)
	}
	return sm, fmt.Errorf("%w: the node signed another message than the confirmation asked for", errLying)
}
