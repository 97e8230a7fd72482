package chain

import "github.com/haulout/haulout/codec"

// EventID names an event as Sui does: the digest of the transaction that
// emitted it and its index in that transaction. In JSON:
// {"txDigest": "<base58>", "eventSeq": "<decimal>"}.
type EventID struct {
	TxDigest Digest `json:"txDigest"`
	EventSeq uint64 `json:"eventSeq,string"`
}

// IsZero reports whether id is the zero EventID (no event).
func (id EventID) IsZero() bool { return id == EventID{} }

// EventKind says what an Event reports.
type EventKind string

// The kinds of events, Walrus's BlobRegistered, BlobCertified, BlobDeleted,
// InvalidBlobID and EpochChangeStart.
const (
	EventRegistered  EventKind = "registered"
	EventCertified   EventKind = "certified"
	EventDeleted     EventKind = "deleted"
	EventInvalid     EventKind = "invalid"
	EventEpochChange EventKind = "epochChange"
)

// Event is one entry of the ordered event stream that storage nodes follow.
// Fields that do not apply to a kind are zero.
type Event struct {
	// Cursor is the event's position in the stream, from 0; resume a stream
	// after an event from its Cursor+1.
	Cursor uint64    `json:"cursor"`
	ID     EventID   `json:"id"`
	Kind   EventKind `json:"kind"`
	// Epoch is the epoch the event happened in; for epochChange, the new
	// epoch; for certified, the epoch of the (first) certification, also for
	// extensions, as Walrus emits it.
	Epoch    Epoch        `json:"epoch"`
	BlobID   codec.BlobID `json:"blobId,omitzero"`
	ObjectID ObjectID     `json:"objectId,omitzero"`
	// UnencodedSize and EncodingType are set for registered.
	UnencodedSize uint64       `json:"unencodedSize,omitempty"`
	EncodingType  EncodingType `json:"encodingType,omitempty"`
	// EndEpoch is set for registered, certified and deleted.
	EndEpoch  Epoch `json:"endEpoch,omitempty"`
	Deletable bool  `json:"deletable,omitempty"`
	// IsExtension marks a certified event emitted by an extension.
	IsExtension bool `json:"isExtension,omitempty"`
	// WasCertified tells, for deleted, whether the object had been certified.
	WasCertified bool `json:"wasCertified,omitempty"`
}
