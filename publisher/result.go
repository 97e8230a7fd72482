package publisher

import (
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher/jobs"
)

// The answers of PUT /v1/blobs: Walrus's BlobStoreResult, externally
// tagged, with the camelCase field names of its wire form (spec §2.1; the
// checked-in OpenAPI YAML's snake_case is not what Walrus sends).

// blobStoreResult holds exactly one variant.
type blobStoreResult struct {
	NewlyCreated     *newlyCreated     `json:"newlyCreated,omitempty"`
	AlreadyCertified *alreadyCertified `json:"alreadyCertified,omitempty"`
}

type newlyCreated struct {
	BlobObject        blobObject        `json:"blobObject"`
	ResourceOperation resourceOperation `json:"resourceOperation"`
	// Cost is in FROST, storage only (no gas).
	Cost uint64 `json:"cost"`
	// SharedBlobObject is present only when share=true.
	SharedBlobObject *chain.ObjectID `json:"sharedBlobObject,omitempty"`
}

// blobObject is Walrus's Blob Move object.
type blobObject struct {
	ID              chain.ObjectID  `json:"id"`
	RegisteredEpoch chain.Epoch     `json:"registeredEpoch"`
	BlobID          codec.BlobID    `json:"blobId"`
	Size            uint64          `json:"size"`
	EncodingType    string          `json:"encodingType"`
	CertifiedEpoch  *chain.Epoch    `json:"certifiedEpoch"`
	Storage         storageResource `json:"storage"`
	Deletable       bool            `json:"deletable"`
}

// storageResource is Walrus's Storage Move object: the space reserved from
// StartEpoch to EndEpoch (exclusive).
type storageResource struct {
	ID          chain.ObjectID `json:"id"`
	StartEpoch  chain.Epoch    `json:"startEpoch"`
	EndEpoch    chain.Epoch    `json:"endEpoch"`
	StorageSize uint64         `json:"storageSize"`
}

// resourceOperation is Walrus's RegisterBlobOp; haulout always registers
// from scratch, as Walrus's publisher does without reuse_resources.
type resourceOperation struct {
	RegisterFromScratch *registerFromScratch `json:"registerFromScratch,omitempty"`
}

type registerFromScratch struct {
	EncodedLength uint64 `json:"encodedLength"`
	EpochsAhead   uint32 `json:"epochsAhead"`
}

// alreadyCertified names the event that certified a permanent blob, or the
// certified deletable Blob object, that already stores the blob long
// enough.
type alreadyCertified struct {
	BlobID   codec.BlobID    `json:"blobId"`
	Event    *chain.EventID  `json:"event,omitempty"`
	Object   *chain.ObjectID `json:"object,omitempty"`
	EndEpoch chain.Epoch     `json:"endEpoch"`
}

// quiltStoreResult is the answer of PUT /v1/quilts.
type quiltStoreResult struct {
	BlobStoreResult  blobStoreResult   `json:"blobStoreResult"`
	StoredQuiltBlobs []storedQuiltBlob `json:"storedQuiltBlobs"`
}

// storedQuiltBlob is one file of a stored quilt: its patch ID and its
// columns [start, end).
type storedQuiltBlob struct {
	Identifier   string    `json:"identifier"`
	QuiltPatchID string    `json:"quiltPatchId"`
	Range        [2]uint16 `json:"range"`
}

// storageObjectID names the storage resource of a Blob object. The local
// ledger keeps no separate Storage objects, so the ID is derived from the
// Blob object's: stable, and distinct from any Blob object ID.
func storageObjectID(blob chain.ObjectID) chain.ObjectID {
	return chain.ObjectID(sha256.Sum256(append([]byte("haulout storage resource "), blob[:]...)))
}

// storageCost is units*(storagePrice*epochs + writePrice), with units the
// encoded size in MiB rounded up, as Walrus prices storage.
func storageCost(encoded uint64, epochs uint32, storagePrice, writePrice uint64) uint64 {
	const unit = 1 << 20
	units := (encoded + unit - 1) / unit
	return units * (storagePrice*uint64(epochs) + writePrice)
}

// newlyCreatedResult is the answer for a blob certified as rec.
func newlyCreatedResult(rec chain.BlobRecord, epochsAhead uint32, cost uint64, share bool) blobStoreResult {
	nc := &newlyCreated{
		BlobObject: blobObject{
			ID:              rec.ObjectID,
			RegisteredEpoch: rec.RegisteredEpoch,
			BlobID:          rec.BlobID,
			Size:            rec.UnencodedSize,
			EncodingType:    rec.EncodingType.String(),
			CertifiedEpoch:  rec.CertifiedEpoch,
			Storage: storageResource{
				ID:          storageObjectID(rec.ObjectID),
				StartEpoch:  rec.RegisteredEpoch,
				EndEpoch:    rec.EndEpoch,
				StorageSize: rec.EncodedSize,
			},
			Deletable: rec.Deletable,
		},
		ResourceOperation: resourceOperation{RegisterFromScratch: &registerFromScratch{
			EncodedLength: rec.EncodedSize,
			EpochsAhead:   epochsAhead,
		}},
		Cost: cost,
	}
	if share {
		id := rec.ObjectID
		nc.SharedBlobObject = &id
	}
	return blobStoreResult{NewlyCreated: nc}
}

// jobAccepted is the 202 answer of ?wait=false.
type jobAccepted struct {
	JobID     string     `json:"jobId"`
	State     jobs.State `json:"state"`
	StatusURL string     `json:"statusUrl"`
}

// jobView is GET /v1/jobs/{id}: the job as the store has it, without the
// spool path (a detail of the publisher's disk), with its node progress
// summed up.
type jobView struct {
	ID           string              `json:"id"`
	Kind         string              `json:"kind"` // blob or quilt
	State        jobs.State          `json:"state"`
	BlobID       string              `json:"blobId,omitempty"`
	Size         int64               `json:"size"`
	Options      jobs.Options        `json:"options"`
	Failure      string              `json:"failure,omitempty"`
	LastError    string              `json:"lastError,omitempty"`
	Attempts     int                 `json:"attempts"`
	Registration *jobs.Registration  `json:"registration,omitempty"`
	Certificate  *jobs.Certificate   `json:"certificate,omitempty"`
	Progress     jobProgress         `json:"progress"`
	Nodes        []jobs.NodeProgress `json:"nodes"`
	// Result is the answer the upload gave or will give (the body of
	// PUT /v1/blobs or /v1/quilts), once the blob is certified.
	Result  json.RawMessage `json:"result,omitempty"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
}

// jobProgress counts the committee's nodes by how far each has come.
type jobProgress struct {
	Nodes     int `json:"nodes"`
	Pending   int `json:"pending"`
	Sent      int `json:"sent"`
	Confirmed int `json:"confirmed"`
	GivenUp   int `json:"givenUp"`
}

func viewJob(j jobs.Job) jobView {
	v := jobView{
		ID: j.ID, Kind: "blob", State: j.State, BlobID: j.BlobID, Size: j.Size, Options: j.Options,
		Failure: j.Failure, LastError: j.LastError, Attempts: j.Attempts,
		Registration: j.Registration, Certificate: j.Certificate, Nodes: j.Nodes, Result: j.Result,
		Created: j.Created, Updated: j.Updated,
	}
	if isQuilt(j.Options) {
		v.Kind = "quilt"
	}
	if v.Nodes == nil {
		v.Nodes = []jobs.NodeProgress{}
	}
	v.Progress.Nodes = len(j.Nodes)
	for _, n := range j.Nodes {
		switch n.State {
		case jobs.NodePending:
			v.Progress.Pending++
		case jobs.NodeSent:
			v.Progress.Sent++
		case jobs.NodeConfirmed:
			v.Progress.Confirmed++
		case jobs.NodeGivenUp:
			v.Progress.GivenUp++
		}
	}
	return v
}
