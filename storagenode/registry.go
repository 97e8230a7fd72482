package storagenode

import (
	"encoding/json"
	"fmt"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// blobInfo is the node's record of a blob ID: the Blob objects registered
// for it, from the ledger's events (or a direct lookup). It is kept in
// memory and in the store (as JSON blob info), written together with the
// event cursor, so that a restart resumes exactly where it stopped.
//
// Object state only moves forward (certified, deleted, a later end epoch),
// so merging what the ledger says, in any order, is safe.
type blobInfo struct {
	Objects []objectInfo `json:"objects,omitempty"`
	// Invalid: the blob ID was marked invalid (inconsistently encoded);
	// its data is dropped and uploads are refused.
	Invalid bool `json:"invalid,omitempty"`

	// complete caches that every sliver of the node's shards is stored
	// (not persisted; reset when the node's shards change).
	complete bool
}

type objectInfo struct {
	ID        chain.ObjectID `json:"id"`
	EndEpoch  chain.Epoch    `json:"endEpoch"`
	Deletable bool           `json:"deletable,omitempty"`
	Certified bool           `json:"certified,omitempty"`
	Deleted   bool           `json:"deleted,omitempty"`
}

func (o *objectInfo) live(epoch chain.Epoch) bool { return !o.Deleted && epoch < o.EndEpoch }

// live reports whether some object keeps the blob stored in epoch.
func (b *blobInfo) live(epoch chain.Epoch) bool {
	if b.Invalid {
		return false
	}
	for i := range b.Objects {
		if b.Objects[i].live(epoch) {
			return true
		}
	}
	return false
}

// certified reports whether some live object is certified.
func (b *blobInfo) certified(epoch chain.Epoch) bool {
	if b.Invalid {
		return false
	}
	for i := range b.Objects {
		if o := &b.Objects[i]; o.live(epoch) && o.Certified {
			return true
		}
	}
	return false
}

// allows reports whether a storage confirmation with persistence p may be
// signed in epoch: a live permanent object for a permanent confirmation,
// the live deletable object itself for a deletable one.
func (b *blobInfo) allows(p chain.BlobPersistence, epoch chain.Epoch) bool {
	if b.Invalid {
		return false
	}
	for i := range b.Objects {
		o := &b.Objects[i]
		if !o.live(epoch) {
			continue
		}
		if !p.Deletable && !o.Deletable || p.Deletable && o.Deletable && o.ID == p.ObjectID {
			return true
		}
	}
	return false
}

// object returns the object with id, adding it if new.
func (b *blobInfo) object(id chain.ObjectID) *objectInfo {
	for i := range b.Objects {
		if b.Objects[i].ID == id {
			return &b.Objects[i]
		}
	}
	b.Objects = append(b.Objects, objectInfo{ID: id})
	return &b.Objects[len(b.Objects)-1]
}

// merge folds o into the record, keeping every forward step of either.
// It reports whether anything changed.
func (b *blobInfo) merge(o objectInfo) bool {
	cur := b.object(o.ID)
	before := *cur
	cur.EndEpoch = max(cur.EndEpoch, o.EndEpoch)
	cur.Deletable = cur.Deletable || o.Deletable
	cur.Certified = cur.Certified || o.Certified
	cur.Deleted = cur.Deleted || o.Deleted
	return *cur != before
}

func (b *blobInfo) clone() *blobInfo {
	c := *b
	c.Objects = append([]objectInfo(nil), b.Objects...)
	return &c
}

func (b *blobInfo) marshal() []byte {
	out, err := json.Marshal(b)
	if err != nil {
		// Only fixed-size fields: marshalling cannot fail.
		panic(fmt.Sprintf("storagenode: marshal blob info: %v", err))
	}
	return out
}

func unmarshalBlobInfo(b []byte) (*blobInfo, error) {
	var info blobInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("decode blob info: %w", err)
	}
	return &info, nil
}

// objectFromRecord is what the node keeps of a Blob object.
func objectFromRecord(r *chain.BlobRecord) objectInfo {
	return objectInfo{ID: r.ObjectID, EndEpoch: r.EndEpoch, Deletable: r.Deletable, Certified: r.Certified(), Deleted: r.Deleted}
}

// tombstones remembers the most recent deleted objects, so that a direct
// ledger lookup answered just before a deletion event cannot bring a
// deleted object back after the event was applied.
type tombstones struct {
	ring []chain.ObjectID
	next int
	set  map[chain.ObjectID]struct{}
}

func newTombstones(n int) *tombstones {
	return &tombstones{ring: make([]chain.ObjectID, n), set: make(map[chain.ObjectID]struct{}, n)}
}

func (t *tombstones) add(id chain.ObjectID) {
	if _, ok := t.set[id]; ok {
		return
	}
	if old := t.ring[t.next]; !old.IsZero() {
		delete(t.set, old)
	}
	t.ring[t.next] = id
	t.next = (t.next + 1) % len(t.ring)
	t.set[id] = struct{}{}
}

func (t *tombstones) has(id chain.ObjectID) bool {
	_, ok := t.set[id]
	return ok
}

// blobMeta is a blob's decoded metadata with its BCS form as stored.
type blobMeta struct {
	md  *codec.BlobMetadata
	bcs []byte
}
