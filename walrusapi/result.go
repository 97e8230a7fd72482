package walrusapi

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// BlobStoreResult is Walrus's answer to a store, externally tagged:
// exactly one variant is set.
type BlobStoreResult struct {
	NewlyCreated     *NewlyCreated     `json:"newlyCreated,omitempty"`
	AlreadyCertified *AlreadyCertified `json:"alreadyCertified,omitempty"`
}

// NewlyCreated is a store that made a new Blob object.
type NewlyCreated struct {
	BlobObject BlobObject `json:"blobObject"`
	// ResourceOperation is Walrus's RegisterBlobOp as sent: one of
	// registerFromScratch{encodedLength, epochsAhead}, reuseStorage,
	// reuseRegistration, reuseAndExtend, reuseAndExtendNonCertified. Kept
	// raw so that a client passes on whichever a publisher chose.
	ResourceOperation json.RawMessage `json:"resourceOperation,omitempty"`
	// Cost is in FROST, storage only (no gas).
	Cost uint64 `json:"cost"`
	// SharedBlobObject is present only when the store asked for share.
	SharedBlobObject *chain.ObjectID `json:"sharedBlobObject,omitempty"`
}

// BlobObject is Walrus's Blob Move object as publishers report it.
type BlobObject struct {
	ID              chain.ObjectID  `json:"id"`
	RegisteredEpoch chain.Epoch     `json:"registeredEpoch"`
	BlobID          codec.BlobID    `json:"blobId"`
	Size            uint64          `json:"size"`
	EncodingType    string          `json:"encodingType"`
	CertifiedEpoch  *chain.Epoch    `json:"certifiedEpoch"`
	Storage         StorageResource `json:"storage"`
	Deletable       bool            `json:"deletable"`
}

// StorageResource is Walrus's Storage Move object: the space reserved from
// StartEpoch to EndEpoch (exclusive).
type StorageResource struct {
	ID          chain.ObjectID `json:"id"`
	StartEpoch  chain.Epoch    `json:"startEpoch"`
	EndEpoch    chain.Epoch    `json:"endEpoch"`
	StorageSize uint64         `json:"storageSize"`
}

// AlreadyCertified names the event that certified a permanent blob, or
// the certified deletable Blob object, that already stores the blob long
// enough.
type AlreadyCertified struct {
	BlobID   codec.BlobID    `json:"blobId"`
	Event    *chain.EventID  `json:"event,omitempty"`
	Object   *chain.ObjectID `json:"object,omitempty"`
	EndEpoch chain.Epoch     `json:"endEpoch"`
}

// RegisterFromScratch is the RegisterBlobOp of a Blob object registered
// with new storage, the only one haulout makes.
type RegisterFromScratch struct {
	EncodedLength uint64 `json:"encodedLength"`
	EpochsAhead   uint32 `json:"epochsAhead"`
}

// RegisterFromScratchOp is the resourceOperation of a registration from
// scratch.
func RegisterFromScratchOp(encodedLength uint64, epochsAhead uint32) json.RawMessage {
	op := struct {
		R RegisterFromScratch `json:"registerFromScratch"`
	}{RegisterFromScratch{EncodedLength: encodedLength, EpochsAhead: epochsAhead}}
	b, _ := json.Marshal(op) // two numbers always encode
	return b
}

// BlobObjectOf is rec as publishers report Blob objects. Its storage
// resource's ID is StorageObjectID's.
func BlobObjectOf(rec chain.BlobRecord) BlobObject {
	return BlobObject{
		ID:              rec.ObjectID,
		RegisteredEpoch: rec.RegisteredEpoch,
		BlobID:          rec.BlobID,
		Size:            rec.UnencodedSize,
		EncodingType:    rec.EncodingType.String(),
		CertifiedEpoch:  rec.CertifiedEpoch,
		Storage: StorageResource{
			ID:          StorageObjectID(rec.ObjectID),
			StartEpoch:  rec.RegisteredEpoch,
			EndEpoch:    rec.EndEpoch,
			StorageSize: rec.EncodedSize,
		},
		Deletable: rec.Deletable,
	}
}

// StorageObjectID names the storage resource of a Blob object. haulout's
// ledger keeps no separate Storage objects, so the ID is derived from the
// Blob object's: stable, and distinct from any Blob object ID.
func StorageObjectID(blob chain.ObjectID) chain.ObjectID {
	return chain.ObjectID(sha256.Sum256(append([]byte("haulout storage resource "), blob[:]...)))
}

// AlreadyCertifiedOf is the alreadyCertified answer for blob id stored by
// s (from chain.FindCertified).
func AlreadyCertifiedOf(id codec.BlobID, s *chain.StoredBy) *AlreadyCertified {
	return &AlreadyCertified{BlobID: id, Event: s.Event, Object: s.Object, EndEpoch: s.EndEpoch}
}
