package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/walrusapi"
)

// Direct stores blobs without a publisher: it encodes each blob here,
// registers it on the ledger, sends every storage node its slivers,
// collects their signed storage confirmations and certifies the blob with
// their aggregate, as a publisher does (but without a job that outlives
// the process: an interrupted store is simply done again).
type Direct struct {
	// Ledger is the ledger to register and certify on (required).
	Ledger *Ledger
	// NodeHTTP talks to the storage nodes (default
	// nodeclient.NewHTTPClient with its defaults).
	NodeHTTP *http.Client
	// Attempts per node before it is given up on (default 5), with a
	// backoff doubling from 200 ms between them.
	Attempts int
	// QuorumTimeout bounds the wait for a quorum of confirmations (default
	// 2 minutes).
	QuorumTimeout time.Duration
	// Linger is how long, once the blob is certified, the slowest nodes
	// still get to take their slivers (default 10 s); nodes that miss them
	// recover them from their peers.
	Linger time.Duration
	// RequestTimeout bounds one request to a node (default 60 s), so that
	// a node that hangs is retried, then given up on.
	RequestTimeout time.Duration
	// Log receives per-node failures (default: discarded).
	Log *slog.Logger
}

func (d *Direct) defaults() {
	if d.NodeHTTP == nil {
		d.NodeHTTP = nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	}
	if d.Attempts <= 0 {
		d.Attempts = 5
	}
	if d.QuorumTimeout <= 0 {
		d.QuorumTimeout = 2 * time.Minute
	}
	if d.Linger <= 0 {
		d.Linger = 10 * time.Second
	}
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = time.Minute
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
}

// ErrNoQuorum: the nodes that confirmed hold too few shards to certify.
var ErrNoQuorum = errors.New("no quorum of storage confirmations")

// StoreBlob stores data as one blob. The answer has the shape of a
// publisher's (newlyCreated or alreadyCertified), so that callers print
// both the same way; Raw is its JSON. opts.Progress counts the blob's
// bytes as the nodes take their share of its slivers. SendObjectTo and
// Share are refused: there is no wallet here to own the object.
func (d *Direct) StoreBlob(ctx context.Context, data []byte, opts StoreOptions) (*StoreResult, error) {
	d.defaults()
	if d.Ledger == nil {
		return nil, errors.New("direct store: no ledger")
	}
	if opts.SendObjectTo != "" || opts.Share {
		return nil, errors.New("direct store: send_object_to and share need a wallet; store through a publisher")
	}
	if opts.Permanent && opts.Deletable {
		return nil, errors.New("direct store: a blob cannot be both permanent and deletable")
	}
	sys, err := d.Ledger.SystemInfo(ctx)
	if err != nil {
		return nil, err
	}
	epochs := opts.Epochs
	if epochs == 0 {
		epochs = 1
	}
	if epochs > sys.MaxEpochsAhead {
		return nil, fmt.Errorf("%w: %d epochs ahead, at most %d", chain.ErrInvalidEpochs, epochs, sys.MaxEpochsAhead)
	}
	committee, err := d.Ledger.CurrentCommittee(ctx)
	if err != nil {
		return nil, err
	}
	code, err := codec.NewConfig(int(committee.NShards))
	if err != nil {
		return nil, fmt.Errorf("committee of %d shards: %w", committee.NShards, err)
	}
	if uint64(len(data)) > code.MaxBlobSize() {
		return nil, fmt.Errorf("%w: %d bytes, at most %d on %d shards", codec.ErrBlobTooLarge, len(data), code.MaxBlobSize(), committee.NShards)
	}
	enc, err := code.Encode(data)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	id := enc.Metadata.ID
	end := sys.Epoch + chain.Epoch(epochs)
	deletable := !opts.Permanent

	st, err := d.Ledger.BlobStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.Kind == chain.StatusInvalid {
		return nil, fmt.Errorf("blob %s is marked invalid on the ledger", id)
	}
	if !opts.Force {
		by, err := chain.FindCertified(ctx, d.Ledger.BlobObjects, id, st, end, deletable, sys.Epoch)
		if err != nil {
			return nil, err
		}
		if by != nil {
			return resultOf(&StoreResult{AlreadyCertified: walrusapi.AlreadyCertifiedOf(id, by)})
		}
	}
	encoded, err := chain.EncodedBlobLength(uint64(len(data)), committee.NShards)
	if err != nil {
		return nil, err
	}
	rec, err := d.Ledger.Register(ctx, chain.RegisterRequest{
		BlobID: id, RootHash: chain.Hash(enc.Metadata.RootHash()), UnencodedSize: uint64(len(data)),
		EncodingType: chain.EncodingRS2, EncodedSize: encoded, EndEpoch: end, Deletable: deletable,
	})
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	rec, err = d.distribute(ctx, committee, enc, rec, int64(len(data)), opts.Progress)
	if err != nil {
		return nil, err
	}
	nc := &NewlyCreated{BlobObject: BlobObjectOf(rec), ResourceOperation: walrusapi.RegisterFromScratchOp(rec.EncodedSize, epochs)}
	return resultOf(&StoreResult{NewlyCreated: nc})
}

// resultOf fills r.Raw.
func resultOf(r *StoreResult) (*StoreResult, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return r, nil
}

// confirmation is one node's checked answer.
type confirmation struct {
	idx    int
	signed chain.SignedMessage
	err    error
}

// distribute sends every node its slivers, certifies the blob with the
// first quorum of valid confirmations and returns the certified record,
// after giving the remaining nodes up to Linger.
func (d *Direct) distribute(ctx context.Context, com chain.Committee, enc *codec.Encoded, rec chain.BlobRecord, size int64, progress func(int64)) (chain.BlobRecord, error) {
	want := chain.StorageConfirmation{Epoch: com.Epoch, BlobID: rec.BlobID, Persistence: rec.Persistence()}.Bytes()
	n := int(com.NShards)
	var total int64
	perNode := make([][]nodeclient.BatchSliver, len(com.Nodes))
	for i, node := range com.Nodes {
		for _, s := range node.Shards {
			pair := codec.PairForShard(rec.BlobID, int(s), n)
			prim, sec := enc.Pair(pair)
			perNode[i] = append(perNode[i],
				nodeclient.BatchSliver{Pair: uint16(pair), Sliver: prim},
				nodeclient.BatchSliver{Pair: uint16(pair), Sliver: sec})
			total += int64(len(prim.Data) + len(sec.Data))
		}
	}
	var sent atomic.Int64
	report := func(b int64) {
		if progress != nil && total > 0 {
			progress(sent.Add(b) * size / total)
		}
	}

	// Deferred in this order, stop runs first: the senders still at work
	// (the slow nodes after Linger) end, then they are waited for.
	var wg sync.WaitGroup
	defer wg.Wait()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan confirmation, len(com.Nodes))
	var certified atomic.Bool
	for i, node := range com.Nodes {
		wg.Go(func() {
			signed, err := d.sendNode(sctx, node, rec.BlobID, enc, perNode[i], rec.Persistence(), want, report, &certified)
			results <- confirmation{idx: i, signed: signed, err: err}
		})
	}

	quorum := time.NewTimer(d.QuorumTimeout)
	defer quorum.Stop()
	need := com.QuorumWeight()
	var signers []uint16
	var sigs []bls.Signature
	weight, lost, pending := 0, 0, len(com.Nodes)
	var lastErr error
	for weight < need {
		if pending == 0 || int(com.NShards)-lost < need {
			return rec, fmt.Errorf("%w: %d of %d shards confirmed, %d needed (last error: %v)", ErrNoQuorum, weight, com.NShards, need, lastErr)
		}
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				lost += len(com.Nodes[r.idx].Shards)
				lastErr = fmt.Errorf("node %s: %w", com.Nodes[r.idx].Name, r.err)
				d.Log.Warn("storage node failed", "node", com.Nodes[r.idx].Name, "err", r.err)
				continue
			}
			signers = append(signers, uint16(r.idx))
			sigs = append(sigs, r.signed.Signature)
			weight += len(com.Nodes[r.idx].Shards)
		case <-quorum.C:
			return rec, fmt.Errorf("%w: %d of %d shards confirmed after %s", ErrNoQuorum, weight, need, d.QuorumTimeout)
		case <-ctx.Done():
			return rec, ctx.Err()
		}
	}
	certified.Store(true)
	out, err := d.certify(ctx, rec, want, signers, sigs)
	if err != nil {
		return rec, err
	}
	linger := time.NewTimer(d.Linger)
	defer linger.Stop()
	for ; pending > 0; pending-- {
		select {
		case <-results:
		case <-linger.C:
			return out, nil
		case <-ctx.Done():
			return out, nil
		}
	}
	return out, nil
}

// certify submits the certificate, signers in committee order.
func (d *Direct) certify(ctx context.Context, rec chain.BlobRecord, want []byte, signers []uint16, sigs []bls.Signature) (chain.BlobRecord, error) {
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
	cert, err := chain.NewCertificate(ss, want, gs)
	if err != nil {
		return rec, fmt.Errorf("certificate: %w", err)
	}
	out, err := d.Ledger.Certify(ctx, rec.ObjectID, cert)
	if err != nil {
		return rec, fmt.Errorf("certify: %w", err)
	}
	return out, nil
}

// sendNode delivers one node its metadata and slivers, then (unless the
// blob is certified meanwhile) asks for its confirmation and checks it: the
// message must be exactly want and the signature the node's. A node that
// has not yet seen the registration answers NOT_REGISTERED: that, like
// transport failures, is retried with a backoff.
func (d *Direct) sendNode(ctx context.Context, node chain.NodeInfo, id codec.BlobID, enc *codec.Encoded, slivers []nodeclient.BatchSliver, p chain.BlobPersistence, want []byte, report func(int64), certified *atomic.Bool) (chain.SignedMessage, error) {
	c, err := nodeclient.New(node.RESTURL, nodeclient.WithHTTPClient(d.NodeHTTP))
	if err != nil {
		return chain.SignedMessage{}, err
	}
	var bytesOf int64
	for _, s := range slivers {
		bytesOf += int64(len(s.Sliver.Data))
	}
	backoff := 200 * time.Millisecond
	sentSlivers := false
	var last error
	for attempt := 0; attempt < d.Attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return chain.SignedMessage{}, ctx.Err()
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		if !sentSlivers {
			if err := withTimeout(ctx, d.RequestTimeout, func(ctx context.Context) error {
				return c.PutMetadata(ctx, id, &enc.Metadata.BlobMetadata)
			}); err != nil {
				last = fmt.Errorf("metadata: %w", err)
				continue
			}
			if err := putBatches(ctx, d.RequestTimeout, c, id, slivers); err != nil {
				last = fmt.Errorf("slivers: %w", err)
				continue
			}
			sentSlivers = true
			report(bytesOf)
		}
		if certified.Load() {
			return chain.SignedMessage{}, nil
		}
		var sm chain.SignedMessage
		err := withTimeout(ctx, d.RequestTimeout, func(ctx context.Context) (err error) {
			sm, err = c.Confirmation(ctx, id, p)
			return err
		})
		if err != nil {
			last = fmt.Errorf("confirmation: %w", err)
			continue
		}
		if !bytes.Equal(sm.SerializedMessage, want) {
			got, perr := chain.ParseStorageConfirmation(sm.SerializedMessage)
			if perr == nil && got.BlobID == id && got.Persistence == p {
				last = fmt.Errorf("confirmation for epoch %d, not the committee's", got.Epoch)
				continue
			}
			return sm, errors.New("the node signed another message than the confirmation asked for")
		}
		if err := sm.Verify(node.PublicKey); err != nil {
			return sm, fmt.Errorf("confirmation signature: %w", err)
		}
		return sm, nil
	}
	return chain.SignedMessage{}, last
}

// batchBytes bounds the sliver data of one request, as the publisher's
// default: a node refuses bodies much larger.
const batchBytes = 16 << 20

// withTimeout runs f under ctx bounded by d.
func withTimeout(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// putBatches sends slivers in requests of at most about batchBytes, each
// bounded by timeout.
func putBatches(ctx context.Context, timeout time.Duration, c *nodeclient.Client, id codec.BlobID, slivers []nodeclient.BatchSliver) error {
	for len(slivers) > 0 {
		n, size := 0, 0
		for n < len(slivers) && (n == 0 || size+len(slivers[n].Sliver.Data) <= batchBytes) {
			size += len(slivers[n].Sliver.Data)
			n++
		}
		if err := withTimeout(ctx, timeout, func(ctx context.Context) error {
			_, err := c.PutSlivers(ctx, id, slivers[:n])
			return err
		}); err != nil {
			return err
		}
		slivers = slivers[n:]
	}
	return nil
}
