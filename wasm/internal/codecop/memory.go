package codecop

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"

	"github.com/haulout/haulout/codec"
)

// Wasm32Memory is all the linear memory a 32-bit WebAssembly module can
// have: 65536 pages of 64 KiB.
const Wasm32Memory = 4 << 30

// DefaultBudget is how much of a wasm32 module's memory an operation may
// plan to use. The rest is for the Go runtime, the garbage collector's
// slack between cycles and the result being handed out.
const DefaultBudget = 3 << 30

// ErrMemory is wrapped by a *MemoryError: an operation was refused before
// it started because it would need more memory than the budget.
var ErrMemory = errors.New("not enough memory")

// MemoryError says what an operation would need and what it may use.
type MemoryError struct {
	Op      string // "blob-id", "metadata", "encode" or "decode"
	Length  uint64 // unencoded blob length
	NShards int
	Need    uint64 // estimated peak heap of the operation, bytes
	Budget  uint64
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("%s of %s at %d shards needs about %s of memory, more than the %s this module may use (wasm32 has 4 GiB at most)",
		e.Op, FormatBytes(e.Length), e.NShards, FormatBytes(e.Need), FormatBytes(e.Budget))
}

func (e *MemoryError) Unwrap() error { return ErrMemory }

// workers is how many goroutines the codec runs at once here: each keeps
// its own coding scratch space.
func workers() uint64 { return uint64(max(1, runtime.GOMAXPROCS(0))) }

// scratch bounds the per-worker work areas of the Reed-Solomon coder
// (a packed shard per FFT position, each at most max(8 KiB, one symbol)
// rounded up to 64 bytes, for at most twice the next power of two of n
// positions), the leaf hasher and the GF(2^16) tables, which the first
// operation allocates.
func scratch(n, s int) uint64 {
	shard := uint64(max(8<<10, s)+64+63) / 64 * 64
	positions := uint64(2) << bits.Len(uint(n))
	const tables = 2 << 20
	return workers()*(positions*shard+2*uint64(s)+64<<10) + tables
}

// leaves is the n x n matrix of 32-byte leaf hashes an encoding keeps.
func leaves(n int) uint64 { return uint64(n) * uint64(n) * 32 }

// EncodeNeed is an upper bound on the heap an encoding of length bytes
// allocates: the copy of the blob, the slivers (all of them if keep, else
// only the secondary expansion), the leaf hashes and the scratch space.
// It fails when the blob is too large for the code.
func EncodeNeed(c codec.Config, length uint64, keep bool) (uint64, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	n, k1, k2 := uint64(c.NShards()), uint64(c.PrimarySourceSymbols()), uint64(c.SecondarySourceSymbols())
	slivers := (n - k2) * k1 * uint64(s)
	if keep {
		slivers = n * (k1 + k2) * uint64(s)
	}
	// Rows and columns each get fresh scratch space.
	return length + slivers + leaves(c.NShards()) + 2*scratch(c.NShards(), s), nil
}

// DecodeNeed is an upper bound on the heap a decoding allocates, given the
// bytes of sliver data handed in: those, the zero-padded blob, the leaf
// hashes of the slivers it verifies and the scratch space; then for the
// consistency check either the leaf hashes of the rows it checks (default)
// or a re-encoding without slivers (strict).
func DecodeNeed(c codec.Config, length, input uint64, mode codec.Consistency) (uint64, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	k1, k2 := uint64(c.PrimarySourceSymbols()), uint64(c.SecondarySourceSymbols())
	// Verifying, decoding and checking each get fresh scratch space.
	base := input + k1*k2*uint64(s) + leaves(c.NShards()) + 3*scratch(c.NShards(), s)
	switch mode {
	case codec.ConsistencySkip:
		return base, nil
	case codec.ConsistencyStrict:
		reencode, _ := EncodeNeed(c, length, false)
		return base + reencode - length, nil // the blob is not copied again
	}
	return base + leaves(c.NShards()), nil
}

// Check returns a *MemoryError when need is over budget.
func Check(op string, c codec.Config, length, need, budget uint64) error {
	if need > budget {
		return &MemoryError{Op: op, Length: length, NShards: c.NShards(), Need: need, Budget: budget}
	}
	return nil
}

// FormatBytes writes a byte count for people: "512 B", "16.0 MiB", "3.0 GiB".
func FormatBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTP"[exp])
}
