package chain

import (
	"context"
	"fmt"

	"github.com/haulout/haulout/codec"
)

// StoredBy is what already stores a blob long enough for a store to be
// answered with Walrus's alreadyCertified: the status event of a
// certified permanent blob, or a certified deletable Blob object.
type StoredBy struct {
	Event    *EventID
	Object   *ObjectID
	EndEpoch Epoch
}

// FindCertified looks, given blob id's status st, for what already stores
// it until end, as Walrus's publisher does before a store without force: a
// certified permanent blob lasting until end, named by its status event;
// else, for a deletable store only, the live certified deletable Blob
// object lasting longest, if it lasts until end (objects lists the blob
// ID's objects, e.g. a ledger's BlobObjects; it is called only then). now
// is the current epoch. It returns nil when nothing stores the blob long
// enough.
func FindCertified(ctx context.Context, objects func(context.Context, codec.BlobID) ([]BlobRecord, error),
	id codec.BlobID, st BlobStatus, end Epoch, deletable bool, now Epoch) (*StoredBy, error) {
	if st.Kind == StatusPermanent && st.IsCertified && st.EndEpoch >= end {
		ev := st.StatusEvent
		return &StoredBy{Event: &ev, EndEpoch: st.EndEpoch}, nil
	}
	if !deletable || st.DeletableCounts.Certified == 0 {
		return nil, nil
	}
	objs, err := objects(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("blob objects: %w", err)
	}
	var best *BlobRecord
	for i := range objs {
		o := &objs[i]
		if o.Deletable && o.Certified() && o.Live(now) && o.EndEpoch >= end && (best == nil || o.EndEpoch > best.EndEpoch) {
			best = o
		}
	}
	if best == nil {
		return nil, nil
	}
	obj := best.ObjectID
	return &StoredBy{Object: &obj, EndEpoch: best.EndEpoch}, nil
}
