package local

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// Operations recorded in the log.
const (
	opGenesis         = "genesis"
	opEpoch           = "epoch"
	opNextCommittee   = "nextCommittee"
	opRegister        = "register"
	opCertify         = "certify"
	opExtend          = "extend"
	opDelete          = "delete"
	opSetAttribute    = "setAttribute"
	opRemoveAttribute = "removeAttribute"
	opInvalidate      = "invalidate"
)

// entry is one logged transaction. It carries its results (IDs, events) so
// that replay reproduces the state exactly without re-deciding anything.
type entry struct {
	Op   string    `json:"op"`
	Tx   uint64    `json:"tx"`
	Time time.Time `json:"time"`

	LedgerID  chain.Hash        `json:"ledgerId,omitzero"`
	Committee *chain.Committee  `json:"committee,omitempty"`
	Blob      *chain.BlobRecord `json:"blob,omitempty"`
	ObjectID  chain.ObjectID    `json:"objectId,omitzero"`
	BlobID    codec.BlobID      `json:"blobId,omitzero"`
	Epoch     chain.Epoch       `json:"epoch,omitempty"`
	EndEpoch  chain.Epoch       `json:"endEpoch,omitempty"`
	Key       string            `json:"key,omitempty"`
	Value     string            `json:"value,omitempty"`
	Event     *chain.Event      `json:"event,omitempty"`
}

// object is a Blob object and the cursor of its status event, which orders
// objects for the aggregated status.
type object struct {
	rec          chain.BlobRecord
	statusCursor uint64
}

type committeeSpan struct {
	from      chain.Epoch
	committee chain.Committee
}

// state is everything the log determines.
type state struct {
	ledgerID   chain.Hash
	tx         uint64
	epoch      chain.Epoch
	epochStart time.Time
	committees []committeeSpan // ascending by from
	next       *chain.Committee
	objects    map[chain.ObjectID]*object
	byBlobID   map[codec.BlobID][]chain.ObjectID
	invalid    map[codec.BlobID]chain.EventID
	events     []chain.Event
}

func newState() *state {
	return &state{
		objects:  make(map[chain.ObjectID]*object),
		byBlobID: make(map[codec.BlobID][]chain.ObjectID),
		invalid:  make(map[codec.BlobID]chain.EventID),
	}
}

// derive returns a 32-byte value unique to this ledger, a purpose and a
// transaction: transaction digests and object IDs.
func (s *state) derive(purpose string, tx uint64) [32]byte {
	h, _ := blake2b.New256(nil)
	h.Write([]byte("haulout-ledger/" + purpose))
	h.Write(s.ledgerID[:])
	h.Write(binary.LittleEndian.AppendUint64(nil, tx))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// newEntry starts the entry of the next transaction.
func (s *state) newEntry(op string, now time.Time) *entry {
	return &entry{Op: op, Tx: s.tx + 1, Time: now.UTC()}
}

// newEvent returns the event the entry e will emit, with its cursor and ID.
func (s *state) newEvent(e *entry, kind chain.EventKind) *chain.Event {
	return &chain.Event{
		Cursor: uint64(len(s.events)),
		ID:     chain.EventID{TxDigest: chain.Digest(s.derive("tx", e.Tx))},
		Kind:   kind,
		Epoch:  s.epoch,
	}
}

func (s *state) committee() *chain.Committee {
	return &s.committees[len(s.committees)-1].committee
}

// committeeAt returns the committee of epoch, with its Epoch field set.
func (s *state) committeeAt(epoch chain.Epoch) (chain.Committee, bool) {
	if epoch == 0 || epoch > s.epoch || len(s.committees) == 0 || epoch < s.committees[0].from {
		return chain.Committee{}, false
	}
	i, _ := slices.BinarySearchFunc(s.committees, epoch, func(c committeeSpan, e chain.Epoch) int {
		switch {
		case c.from < e:
			return -1
		case c.from > e:
			return 1
		}
		return 0
	})
	if i == len(s.committees) || s.committees[i].from > epoch {
		i--
	}
	c := s.committees[i].committee.Clone()
	c.Epoch = epoch
	return c, true
}

// apply changes the state by one logged entry.
func (s *state) apply(e *entry) error {
	if e.Tx != s.tx+1 {
		return fmt.Errorf("transaction %d after %d", e.Tx, s.tx)
	}
	if e.Event != nil && e.Event.Cursor != uint64(len(s.events)) {
		return fmt.Errorf("event cursor %d, want %d", e.Event.Cursor, len(s.events))
	}
	if e.Op != opGenesis && s.tx == 0 {
		return fmt.Errorf("%s before genesis", e.Op)
	}
	if err := s.applyOp(e); err != nil {
		return fmt.Errorf("%s (tx %d): %w", e.Op, e.Tx, err)
	}
	s.tx = e.Tx
	if e.Event != nil {
		s.events = append(s.events, *e.Event)
	}
	return nil
}

func (s *state) applyOp(e *entry) error {
	switch e.Op {
	case opGenesis:
		if s.tx != 0 || e.Committee == nil || e.Event == nil {
			return fmt.Errorf("malformed genesis")
		}
		s.ledgerID = e.LedgerID
		s.epoch = e.Committee.Epoch
		s.epochStart = e.Time
		s.committees = []committeeSpan{{from: s.epoch, committee: e.Committee.Clone()}}
	case opEpoch:
		if e.Epoch != s.epoch+1 || e.Event == nil {
			return fmt.Errorf("epoch %d after %d", e.Epoch, s.epoch)
		}
		s.epoch = e.Epoch
		s.epochStart = e.Time
		if e.Committee != nil {
			s.committees = append(s.committees, committeeSpan{from: e.Epoch, committee: e.Committee.Clone()})
		}
		s.next = nil
	case opNextCommittee:
		if e.Committee == nil {
			return fmt.Errorf("no committee")
		}
		c := e.Committee.Clone()
		s.next = &c
	case opRegister:
		if e.Blob == nil || e.Event == nil {
			return fmt.Errorf("no blob")
		}
		if _, dup := s.objects[e.Blob.ObjectID]; dup {
			return fmt.Errorf("object %s exists", e.Blob.ObjectID)
		}
		s.objects[e.Blob.ObjectID] = &object{rec: e.Blob.Clone(), statusCursor: e.Event.Cursor}
		s.byBlobID[e.Blob.BlobID] = append(s.byBlobID[e.Blob.BlobID], e.Blob.ObjectID)
	case opInvalidate:
		if e.Event == nil {
			return fmt.Errorf("no event")
		}
		s.invalid[e.BlobID] = e.Event.ID
	default:
		return s.applyObjectOp(e)
	}
	return nil
}

func (s *state) applyObjectOp(e *entry) error {
	o, ok := s.objects[e.ObjectID]
	if !ok {
		return fmt.Errorf("unknown object %s", e.ObjectID)
	}
	r := &o.rec
	switch e.Op {
	case opCertify:
		if e.Event == nil {
			return fmt.Errorf("no event")
		}
		epoch := e.Epoch
		r.CertifiedEpoch = &epoch
		r.CertifyEvent = e.Event.ID
		r.StatusEvent = e.Event.ID
		o.statusCursor = e.Event.Cursor
	case opExtend:
		if e.Event == nil {
			return fmt.Errorf("no event")
		}
		r.EndEpoch = e.EndEpoch
		r.StatusEvent = e.Event.ID
		o.statusCursor = e.Event.Cursor
	case opDelete:
		r.Deleted = true
		r.Attributes = nil
	case opSetAttribute:
		if r.Attributes == nil {
			r.Attributes = make(map[string]string)
		}
		r.Attributes[e.Key] = e.Value
	case opRemoveAttribute:
		delete(r.Attributes, e.Key)
		if len(r.Attributes) == 0 {
			r.Attributes = nil
		}
	default:
		return fmt.Errorf("unknown operation %q", e.Op)
	}
	return nil
}

// status aggregates the objects of blobID.
func (s *state) status(blobID codec.BlobID) chain.BlobStatus {
	ids := s.byBlobID[blobID]
	objs := make([]*object, 0, len(ids))
	for _, id := range ids {
		objs = append(objs, s.objects[id])
	}
	slices.SortFunc(objs, func(a, b *object) int {
		switch {
		case a.statusCursor < b.statusCursor:
			return -1
		case a.statusCursor > b.statusCursor:
			return 1
		}
		return 0
	})
	recs := make([]chain.BlobRecord, len(objs))
	for i, o := range objs {
		recs[i] = o.rec
	}
	var invalid *chain.EventID
	if ev, ok := s.invalid[blobID]; ok {
		invalid = &ev
	}
	return chain.AggregateStatus(s.epoch, recs, invalid)
}
