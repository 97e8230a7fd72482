package codec

import (
	"errors"
	"fmt"
)

// EncodingType identifies the erasure code. RS2 (BCS variant 1) is the only
// one Walrus accepts; variant 0 was RaptorQ and is refused.
type EncodingType uint8

// RS2 is Walrus's Reed-Solomon RedStuff encoding.
const RS2 EncodingType = 1

func (t EncodingType) String() string {
	if t == RS2 {
		return "RS2"
	}
	return fmt.Sprintf("EncodingType(%d)", uint8(t))
}

const (
	// MaxSymbolSize is the largest symbol RS2 allows (u16, kept even).
	MaxSymbolSize = 65534
	// MinShards is the smallest committee the code works for: below 4
	// shards no shard may fail, and the Reed-Solomon code has no recovery
	// symbols.
	MinShards = 4
	// MaxShards is the largest number of shards (a u16).
	MaxShards = 65535
)

// Errors that callers branch on.
var (
	ErrInvalidShardCount = errors.New("invalid number of shards")
	ErrBlobTooLarge      = errors.New("blob too large for the number of shards")
)

// Config is the RedStuff code for one number of shards.
type Config struct {
	nShards int
	f       int // faulty shards tolerated
	k1      int // primary source symbols: rows; symbols per secondary sliver
	k2      int // secondary source symbols: columns; symbols per primary sliver
	primary rsCode
	second  rsCode
}

// NewConfig returns the code for nShards shards (4 to 65535).
func NewConfig(nShards int) (Config, error) {
	if nShards < MinShards || nShards > MaxShards {
		return Config{}, fmt.Errorf("%w: %d (want %d to %d)", ErrInvalidShardCount, nShards, MinShards, MaxShards)
	}
	f := (nShards - 1) / 3
	c := Config{nShards: nShards, f: f, k1: nShards - 2*f, k2: nShards - f}
	var err error
	if c.primary, err = newRSCode(c.k1, nShards-c.k1); err != nil {
		return Config{}, fmt.Errorf("%w: %d: %w", ErrInvalidShardCount, nShards, err)
	}
	if c.second, err = newRSCode(c.k2, nShards-c.k2); err != nil {
		return Config{}, fmt.Errorf("%w: %d: %w", ErrInvalidShardCount, nShards, err)
	}
	return c, nil
}

// NShards is the number of shards, and of sliver pairs.
func (c Config) NShards() int { return c.nShards }

// MaxFaulty is f = (n-1)/3, the number of shards that may fail or lie.
func (c Config) MaxFaulty() int { return c.f }

// PrimarySourceSymbols is n-2f: the rows of the blob matrix, the symbols in a
// secondary sliver, and the number of primary slivers that decode the blob.
func (c Config) PrimarySourceSymbols() int { return c.k1 }

// SecondarySourceSymbols is n-f: the columns of the blob matrix, the symbols
// in a primary sliver, and the number of secondary slivers that decode it.
func (c Config) SecondarySourceSymbols() int { return c.k2 }

// SourceSymbols returns how many slivers of the axis decode the blob, which
// is also the number of symbols in a sliver of the other axis.
func (c Config) SourceSymbols(a Axis) int {
	if a == Primary {
		return c.k1
	}
	return c.k2
}

// SliverSymbols is the number of symbols in a sliver of the axis.
func (c Config) SliverSymbols(a Axis) int {
	if a == Primary {
		return c.k2
	}
	return c.k1
}

// MaxBlobSize is the largest blob the code takes for this many shards.
func (c Config) MaxBlobSize() uint64 { return uint64(c.k1) * uint64(c.k2) * MaxSymbolSize }

// SymbolSize returns the symbol size for a blob of length bytes:
// ceil(max(length,1) / (k1*k2)) rounded up to even.
func (c Config) SymbolSize(length uint64) (int, error) {
	cells := uint64(c.k1) * uint64(c.k2)
	s := (max(length, 1) + cells - 1) / cells
	s += s & 1
	if s > MaxSymbolSize {
		return 0, fmt.Errorf("%w: %d bytes, at most %d for %d shards", ErrBlobTooLarge, length, c.MaxBlobSize(), c.nShards)
	}
	return int(s), nil
}

// SliverSize is the byte length of one sliver of the axis for a blob.
func (c Config) SliverSize(length uint64, a Axis) (int, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	return s * c.SliverSymbols(a), nil
}

// MetadataLength is what the chain counts for metadata: two hashes per
// shard and the blob ID.
func (c Config) MetadataLength() uint64 { return uint64(c.nShards)*64 + 32 }

// EncodedLength is the size the chain charges for: every shard's primary
// and secondary sliver, plus the metadata once per shard (every shard keeps
// a copy), as Walrus's encoded_blob_length_for_n_shards.
func (c Config) EncodedLength(length uint64) (uint64, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	return uint64(c.nShards) * (uint64(c.k1+c.k2)*uint64(s) + c.MetadataLength()), nil
}

// MaxSliverSize is the largest sliver any blob can have (a primary sliver at
// the largest symbol size), what a node bounds request bodies by.
func (c Config) MaxSliverSize() int { return c.k2 * MaxSymbolSize }
