package chain

import "time"

// SystemInfo describes the current state of a backend's epochs.
type SystemInfo struct {
	Epoch Epoch `json:"epoch"`
	// EpochStart is when the current epoch began.
	EpochStart time.Time `json:"epochStart"`
	// EpochDuration is the nominal length of an epoch (in JSON:
	// nanoseconds); zero when epochs advance only on demand.
	EpochDuration time.Duration `json:"epochDuration"`
	// MaxEpochsAhead bounds end epochs: EndEpoch <= Epoch + MaxEpochsAhead.
	MaxEpochsAhead uint32 `json:"maxEpochsAhead"`
	NShards        uint16 `json:"nShards"`
}

// MaxEventsPerCall is the most events one Events or WaitEvents call returns;
// a limit of zero or less, or above it, means this many.
const MaxEventsPerCall = 1000

// ClampEventLimit applies MaxEventsPerCall to a requested limit.
func ClampEventLimit(limit int) int {
	if limit <= 0 || limit > MaxEventsPerCall {
		return MaxEventsPerCall
	}
	return limit
}
