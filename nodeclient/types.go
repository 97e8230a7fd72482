package nodeclient

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
)

// StoredStatus is what a node says it holds of a blob's metadata or of one
// sliver, in Walrus's lowercase strings.
type StoredStatus string

// The stored statuses of Walrus's storage nodes.
const (
	Nonexistent StoredStatus = "nonexistent"
	Buffered    StoredStatus = "buffered" // held in memory until the blob is registered (?pending=true)
	Stored      StoredStatus = "stored"
)

// Success is Walrus's JSON success envelope: {"success": {"code", "data"}}.
type Success[T any] struct {
	Success SuccessBody[T] `json:"success"`
}

// SuccessBody is the inside of the success envelope.
type SuccessBody[T any] struct {
	Code int `json:"code"`
	Data T   `json:"data"`
}

// Confirmation is the data of a confirmation response:
// {"signed": {"serializedMessage", "signature"}}.
type Confirmation struct {
	Signed *chain.SignedMessage `json:"signed"`
}

// BatchResult is the data of a successful batch PUT: how many of its
// slivers were new and how many the node already held.
type BatchResult struct {
	Stored        int `json:"stored"`
	AlreadyStored int `json:"alreadyStored"`
}

// HealthInfo is Walrus's ServiceHealthInfo (GET /v1/health).
type HealthInfo struct {
	Uptime        Uptime        `json:"uptime"`
	Epoch         chain.Epoch   `json:"epoch"`
	PublicKey     bls.PublicKey `json:"publicKey"`
	NodeStatus    string        `json:"nodeStatus"`
	EventProgress EventProgress `json:"eventProgress"`
	ShardSummary  ShardSummary  `json:"shardSummary"`
	// ShardDetail is set with ?detailed=true.
	ShardDetail                    *ShardDetail `json:"shardDetail,omitempty"`
	LatestCheckpointSequenceNumber *uint64      `json:"latestCheckpointSequenceNumber,omitempty"`
}

// Uptime is a duration in Rust's serde form {"secs", "nanos"}.
type Uptime time.Duration

// MarshalJSON writes {"secs": s, "nanos": n}.
func (u Uptime) MarshalJSON() ([]byte, error) {
	d := time.Duration(u)
	return json.Marshal(struct {
		Secs  int64 `json:"secs"`
		Nanos int64 `json:"nanos"`
	}{int64(d / time.Second), int64(d % time.Second)})
}

// UnmarshalJSON reads {"secs": s, "nanos": n}.
func (u *Uptime) UnmarshalJSON(b []byte) error {
	var v struct {
		Secs  int64 `json:"secs"`
		Nanos int64 `json:"nanos"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("uptime: %w", err)
	}
	*u = Uptime(time.Duration(v.Secs)*time.Second + time.Duration(v.Nanos))
	return nil
}

// EventProgress tells how far the node has followed the chain's events.
type EventProgress struct {
	Persisted                 uint64  `json:"persisted"`
	Pending                   uint64  `json:"pending"`
	HighestFinishedEventIndex *uint64 `json:"highestFinishedEventIndex"`
}

// ShardSummary counts the node's shards by status.
type ShardSummary struct {
	Owned            int              `json:"owned"`
	OwnedShardStatus OwnedShardStatus `json:"ownedShardStatus"`
	ReadOnly         int              `json:"readOnly"`
}

// OwnedShardStatus counts the owned shards in each state.
type OwnedShardStatus struct {
	Unknown    int `json:"unknown"`
	Ready      int `json:"ready"`
	InTransfer int `json:"inTransfer"`
	InRecovery int `json:"inRecovery"`
}

// ShardDetail lists the shards one by one.
type ShardDetail struct {
	Owned []ShardHealth `json:"owned"`
	Other []ShardHealth `json:"other"`
}

// ShardHealth is one shard and its status: unknown, ready, inTransfer,
// inRecovery or readOnly.
type ShardHealth struct {
	Shard  uint16 `json:"shard"`
	Status string `json:"status"`
}
