package jobs

import (
	"encoding/json"
	"time"
)

// State is where a job stands. A job moves forward through the states in the
// order below, may skip some (a blob found already certified goes from
// encoded to done), and may fail from any state but done. Done and failed are
// terminal: a finished job changes no more and is never acquired again.
type State string

// The states of a job, in order.
const (
	// StateReceived: the body is in the spool file; nothing else is done.
	StateReceived State = "received"
	// StateEncoded: the blob ID is known (Job.BlobID).
	StateEncoded State = "encoded"
	// StateRegistered: the Blob object exists on the ledger (Job.Registration).
	StateRegistered State = "registered"
	// StateDistributing: metadata and slivers are on their way to the nodes
	// (Job.Nodes).
	StateDistributing State = "distributing"
	// StateCertified: the blob is certified (Job.Certificate); slow nodes
	// may still be receiving their slivers.
	StateCertified State = "certified"
	// StateDone: finished; every node has its slivers or was given up on.
	StateDone State = "done"
	// StateFailed: finished without success, for the reason in Job.Failure.
	StateFailed State = "failed"
)

// rank orders the states that a job passes through; failed is outside the
// order.
var rank = map[State]int{
	StateReceived:     1,
	StateEncoded:      2,
	StateRegistered:   3,
	StateDistributing: 4,
	StateCertified:    5,
	StateDone:         6,
}

// Valid reports whether s is one of the states above.
func (s State) Valid() bool { return s == StateFailed || rank[s] > 0 }

// Terminal reports whether a job in state s is finished (done or failed).
func (s State) Terminal() bool { return s == StateDone || s == StateFailed }

// NodeState is how far one storage node has come with a job.
type NodeState string

// The states of a job on one node.
const (
	// NodePending: nothing has reached the node yet.
	NodePending NodeState = "pending"
	// NodeSent: the node stored the metadata and its slivers.
	NodeSent NodeState = "sent"
	// NodeConfirmed: the node signed a storage confirmation.
	NodeConfirmed NodeState = "confirmed"
	// NodeGivenUp: the publisher stopped trying this node.
	NodeGivenUp NodeState = "given_up"
)

// Valid reports whether s is one of the node states above.
func (s NodeState) Valid() bool {
	switch s {
	case NodePending, NodeSent, NodeConfirmed, NodeGivenUp:
		return true
	}
	return false
}

// Options are the upload's parameters, as the publisher received them
// (Walrus's query parameters of PUT /v1/blobs). The store keeps them and
// does not interpret them.
type Options struct {
	Epochs         uint32 `json:"epochs,omitempty"`
	Permanent      bool   `json:"permanent,omitempty"`
	Deletable      bool   `json:"deletable,omitempty"`
	Force          bool   `json:"force,omitempty"`
	ReuseResources bool   `json:"reuse_resources,omitempty"`
	// SendObjectTo is the Sui address that receives the Blob object.
	SendObjectTo string `json:"send_object_to,omitempty"`
	Share        bool   `json:"share,omitempty"`
	EncodingType string `json:"encoding_type,omitempty"`
	// Attributes are set on the Blob object (a quilt carries
	// _walrusBlobType=quilt).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Event names a ledger event; its JSON is that of chain.EventID.
type Event struct {
	TxDigest string `json:"txDigest"`
	EventSeq uint64 `json:"eventSeq,string"`
}

// Registration records the Blob object that a job registered.
type Registration struct {
	// ObjectID is the Blob object's ID, 0x and 64 hex digits.
	ObjectID        string `json:"objectId"`
	Event           Event  `json:"event"`
	RegisteredEpoch uint32 `json:"registeredEpoch"`
	// EndEpoch is the first epoch in which the blob is no longer stored.
	EndEpoch    uint32 `json:"endEpoch"`
	EncodedSize uint64 `json:"encodedSize"`
	Deletable   bool   `json:"deletable"`
	// Cost is the storage cost in FROST, as Walrus reports it.
	Cost uint64 `json:"cost"`
}

// Certificate records a job's certification.
type Certificate struct {
	Epoch uint32 `json:"epoch"`
	Event Event  `json:"event"`
	// Signers are the committee indices of the nodes whose confirmations
	// make up the certificate; Weight is the shards they hold.
	Signers []uint16 `json:"signers"`
	Weight  int      `json:"weight"`
}

// NodeProgress is one storage node's part in a job.
type NodeProgress struct {
	// Node identifies the storage node (its node ID or public key, as the
	// publisher chooses, the same throughout a job).
	Node      string    `json:"node"`
	State     NodeState `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	// Updated is set by the store.
	Updated time.Time `json:"updated"`
}

// Lease is a publisher's hold on a job. Only the holder of the current lease
// changes the job; every change presents the lease. Token grows with every
// acquisition, so a publisher whose lease expired and was taken over is
// refused even if it uses the same owner name.
type Lease struct {
	Job     string    `json:"job"`
	Owner   string    `json:"owner"`
	Token   int64     `json:"token"`
	Expires time.Time `json:"expires"`
}

// Job is one upload.
type Job struct {
	ID string `json:"id"`
	// BlobID is the base64url blob ID, empty until the blob is encoded.
	BlobID string `json:"blobId,omitempty"`
	// Size is the unencoded size in bytes.
	Size      int64   `json:"size"`
	SpoolPath string  `json:"spoolPath"`
	Options   Options `json:"options"`
	State     State   `json:"state"`
	// Failure is why the job failed, set exactly when State is failed.
	Failure string `json:"failure,omitempty"`
	// Attempts counts the publishers that took the job: creation with an
	// owner is the first, every Acquire one more.
	Attempts int `json:"attempts"`
	// LastError is the latest error recorded with Change.Error.
	LastError    string        `json:"lastError,omitempty"`
	Registration *Registration `json:"registration,omitempty"`
	Certificate  *Certificate  `json:"certificate,omitempty"`
	// Result is the answer for the client, as the publisher stored it.
	Result json.RawMessage `json:"result,omitempty"`
	// Nodes is the progress per storage node, ordered by node.
	Nodes []NodeProgress `json:"nodes,omitempty"`
	// Lease is the current lease; zero when no publisher holds the job. It
	// may have expired (compare Expires with the time), in which case any
	// publisher may take the job over.
	Lease   Lease     `json:"lease,omitzero"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// NewJob describes an upload to Create.
type NewJob struct {
	// ID is the job's ID; empty means a new one from NewID. A caller that
	// names its spool file after the job sets it. At most 64 characters of
	// A-Z, a-z, 0-9, '-' and '_'.
	ID        string
	Size      int64
	SpoolPath string
	Options   Options
}

// Change is what a lease holder writes with Update. Zero fields leave the
// job as it is.
type Change struct {
	// State moves the job forward (to a later state) or to failed, with
	// Error as the reason. The empty state, or the current one, keeps it.
	// Moving to done or failed ends the lease.
	State State
	// BlobID sets the blob ID; once set it cannot change.
	BlobID       string
	Registration *Registration
	Certificate  *Certificate
	// Result is the answer for the client; it must be valid JSON.
	Result json.RawMessage
	// Error is recorded as the job's LastError (and as Failure when State
	// is failed).
	Error string
	// Nodes are upserted by Node; the store sets their Updated time.
	Nodes []NodeProgress
}

// ListOptions selects a page of jobs for List.
type ListOptions struct {
	// States keeps the jobs in one of these states; none means all.
	States []State
	// After is the cursor returned by the previous page; empty starts from
	// the oldest job.
	After string
	// Limit is the page size: 100 when zero, at most 1000.
	Limit int
}
