package local

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/haulout/haulout/chain"
)

// GenesisEpoch is the first epoch of a new ledger. Genesis registrations
// prove possession of their keys for epoch GenesisEpoch-1, the epoch in which
// Walrus's first nodes register before the first committee takes over.
const GenesisEpoch chain.Epoch = 1

// DefaultMaxEpochsAhead is Walrus's default bound on how far ahead an end
// epoch may be.
const DefaultMaxEpochsAhead = 53

// Limits on attributes, which land in the log.
const (
	MaxAttributeKeyLen   = 1 << 10
	MaxAttributeValueLen = 64 << 10
)

// Config configures a Ledger. The zero value of every field but Path and,
// for a new ledger, Genesis is usable.
type Config struct {
	// Path is the log file. It and its directory are created if missing.
	Path string
	// Genesis is the committee of GenesisEpoch, used only when the log is
	// new; proofs of possession are over epoch GenesisEpoch-1 (see
	// chain.NewNodeRegistration). An existing log keeps its own committees.
	Genesis []chain.NodeRegistration
	// EpochDuration is the length of an epoch. Zero: epochs advance only
	// through AdvanceEpoch.
	EpochDuration time.Duration
	// MaxEpochsAhead bounds end epochs (default DefaultMaxEpochsAhead).
	MaxEpochsAhead uint32
	// Logger receives warnings (torn records) and epoch changes (default
	// slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		return c, fmt.Errorf("%w: ledger path is empty", chain.ErrInvalidArgument)
	}
	if c.EpochDuration < 0 {
		return c, fmt.Errorf("%w: negative epoch duration %s", chain.ErrInvalidArgument, c.EpochDuration)
	}
	if c.MaxEpochsAhead == 0 {
		c.MaxEpochsAhead = DefaultMaxEpochsAhead
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
