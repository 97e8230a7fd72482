package publisher

import (
	"encoding/json"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/walrusapi"
)

// The answers of PUT /v1/blobs and /v1/quilts are walrusapi's
// BlobStoreResult and QuiltStoreResult (spec §2.1, §2.2), shared with
// package client.

// storageCost is units*(storagePrice*epochs + writePrice), with units the
// encoded size in MiB rounded up, as Walrus prices storage.
func storageCost(encoded uint64, epochs uint32, storagePrice, writePrice uint64) uint64 {
	const unit = 1 << 20
	units := (encoded + unit - 1) / unit
	return units * (storagePrice*uint64(epochs) + writePrice)
}

// newlyCreatedResult is the answer for a blob certified as rec, always
// registered from scratch, as Walrus's publisher does without
// reuse_resources.
func newlyCreatedResult(rec chain.BlobRecord, epochsAhead uint32, cost uint64, share bool) walrusapi.BlobStoreResult {
	nc := &walrusapi.NewlyCreated{
		BlobObject:        walrusapi.BlobObjectOf(rec),
		ResourceOperation: walrusapi.RegisterFromScratchOp(rec.EncodedSize, epochsAhead),
		Cost:              cost,
	}
	if share {
		id := rec.ObjectID
		nc.SharedBlobObject = &id
	}
	return walrusapi.BlobStoreResult{NewlyCreated: nc}
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
