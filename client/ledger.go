package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/codec"
)

// Ledger is the coordination ledger at its HTTP API: the calls of the
// embedded client (blob status, Blob objects, delete, extend, attributes,
// committee) and the few the CLI composes from them.
type Ledger struct {
	*ledgerhttp.Client
}

// NewLedger returns the ledger served at url; hc nil means
// http.DefaultClient.
func NewLedger(url string, hc *http.Client) *Ledger {
	c := ledgerhttp.NewClient(url)
	c.HTTPClient = hc
	return &Ledger{Client: c}
}

// Info is what `haulout info` reports: the epoch, the committee and the
// sizes that follow from its shard count.
type Info struct {
	Epoch          chain.Epoch   `json:"epoch"`
	EpochStart     time.Time     `json:"epochStart"`
	EpochDuration  time.Duration `json:"epochDurationNanos"`
	MaxEpochsAhead uint32        `json:"maxEpochsAhead"`
	NShards        uint16        `json:"nShards"`
	// MaxFaulty, QuorumWeight and ValidityWeight are in shards.
	MaxFaulty      int `json:"maxFaultyShards"`
	QuorumWeight   int `json:"quorumShards"`
	ValidityWeight int `json:"validityShards"`
	// MaxBlobSize is the largest blob the shard count can encode.
	MaxBlobSize uint64 `json:"maxBlobSize"`
	// MetadataSize is the encoded length of an empty blob: the metadata
	// every shard keeps per blob, whatever its size.
	MetadataSize uint64     `json:"metadataSize"`
	Nodes        []InfoNode `json:"nodes"`
}

// InfoNode is one committee member.
type InfoNode struct {
	ID     chain.ObjectID `json:"id"`
	Name   string         `json:"name"`
	URL    string         `json:"restUrl"`
	Shards []uint16       `json:"shards"`
}

// Info returns the ledger's epoch state and current committee.
func (l *Ledger) Info(ctx context.Context) (*Info, error) {
	sys, err := l.SystemInfo(ctx)
	if err != nil {
		return nil, err
	}
	com, err := l.CurrentCommittee(ctx)
	if err != nil {
		return nil, err
	}
	meta, err := chain.EncodedBlobLength(0, com.NShards)
	if err != nil {
		return nil, fmt.Errorf("committee of %d shards: %w", com.NShards, err)
	}
	info := &Info{
		Epoch: sys.Epoch, EpochStart: sys.EpochStart, EpochDuration: sys.EpochDuration,
		MaxEpochsAhead: sys.MaxEpochsAhead, NShards: com.NShards,
		MaxFaulty: com.MaxFaulty(), QuorumWeight: com.QuorumWeight(), ValidityWeight: com.ValidityWeight(),
		MaxBlobSize: chain.MaxBlobSize(com.NShards), MetadataSize: meta,
	}
	for _, n := range com.Nodes {
		info.Nodes = append(info.Nodes, InfoNode{ID: n.ID, Name: n.Name, URL: n.RESTURL, Shards: n.Shards})
	}
	return info, nil
}

// ListBlobs returns every Blob object the ledger has registered and not
// deleted, in registration order, the expired ones only if includeExpired.
// The local ledger has no wallets, so this is every object on it (Walrus's
// list-blobs lists the wallet's); it reads the event stream from the
// start, which is fine for a devnet, not for a ledger of millions.
func (l *Ledger) ListBlobs(ctx context.Context, includeExpired bool) ([]chain.BlobRecord, error) {
	now, err := l.CurrentEpoch(ctx)
	if err != nil {
		return nil, err
	}
	var ids []chain.ObjectID
	seen := map[chain.ObjectID]bool{}
	for from := uint64(0); ; {
		evs, err := l.Events(ctx, from, chain.MaxEventsPerCall)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.Kind == chain.EventRegistered && !seen[ev.ObjectID] {
				seen[ev.ObjectID] = true
				ids = append(ids, ev.ObjectID)
			}
			from = ev.Cursor + 1
		}
		if len(evs) == 0 {
			break
		}
	}
	out := make([]chain.BlobRecord, 0, len(ids))
	for _, id := range ids {
		rec, err := l.Blob(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("blob object %s: %w", id, err)
		}
		if rec.Deleted || (!includeExpired && rec.Expired(now)) {
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

// DeleteBlobID deletes every live deletable Blob object of blob id and
// returns them as deleted. It fails with chain.ErrBlobNotFound when there
// is none; a permanent blob cannot be deleted.
func (l *Ledger) DeleteBlobID(ctx context.Context, id codec.BlobID) ([]chain.BlobRecord, error) {
	now, err := l.CurrentEpoch(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := l.BlobObjects(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []chain.BlobRecord
	permanent := false
	for _, o := range objs {
		if !o.Live(now) {
			continue
		}
		if !o.Deletable {
			permanent = true
			continue
		}
		rec, err := l.Delete(ctx, o.ObjectID)
		if err != nil {
			return out, fmt.Errorf("delete %s: %w", o.ObjectID, err)
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		if permanent {
			return nil, fmt.Errorf("blob %s is stored permanently only: %w", id, chain.ErrNotDeletable)
		}
		return nil, fmt.Errorf("no live deletable Blob object for %s: %w", id, chain.ErrBlobNotFound)
	}
	return out, nil
}
