package codec

import (
	"errors"
	"fmt"
)

// Errors of sliver checks and decoding. Callers branch on them with errors.Is.
var (
	// ErrInvalidSliver: a sliver of the wrong shape, or whose Merkle root is
	// not the one in the metadata.
	ErrInvalidSliver = errors.New("invalid sliver")
	// ErrNotEnoughSlivers: fewer valid, distinct slivers than decoding needs.
	ErrNotEnoughSlivers = errors.New("not enough valid slivers to decode")
	// ErrInconsistentEncoding: the slivers match the metadata but do not form
	// one codeword: the blob was encoded wrongly (maliciously), and no bytes
	// can be said to be "the blob".
	ErrInconsistentEncoding = errors.New("blob is inconsistently encoded")
	// ErrNotEnoughSymbols: fewer valid recovery symbols than recovery needs.
	ErrNotEnoughSymbols = errors.New("not enough valid recovery symbols")
)

// sliverCode is the code that expands a sliver of axis a to all n symbols
// of its line: rows use the secondary code, columns the primary one.
func (c Config) sliverCode(a Axis) rsCode {
	if a == Primary {
		return c.second
	}
	return c.primary
}

// checkShape checks a sliver's index, symbol size and length for a blob.
func (c Config) checkShape(md *BlobMetadata, sl *Sliver) (int, error) {
	s, err := c.SymbolSize(md.UnencodedLength)
	if err != nil {
		return 0, err
	}
	switch {
	case int(sl.Index) >= c.nShards:
		return 0, fmt.Errorf("%w: %s sliver index %d out of range for %d shards", ErrInvalidSliver, sl.Axis, sl.Index, c.nShards)
	case int(sl.SymbolSize) != s:
		return 0, fmt.Errorf("%w: %s sliver %d has symbol size %d, want %d", ErrInvalidSliver, sl.Axis, sl.Index, sl.SymbolSize, s)
	case len(sl.Data) != s*c.SliverSymbols(sl.Axis):
		return 0, fmt.Errorf("%w: %s sliver %d has %d bytes, want %d", ErrInvalidSliver, sl.Axis, sl.Index, len(sl.Data), s*c.SliverSymbols(sl.Axis))
	}
	return s, nil
}

// expandLines codes lines of one axis (slivers: rows or columns of the blob
// matrix, each SliverSymbols(a) symbols of s bytes) out to all n symbols,
// calling emit for every symbol of every line. Lines are coded in batches
// on all cores; emit is called from several goroutines with a per-worker
// hasher (whose scheduled leaves are flushed at the end of each batch),
// never twice for the same (line, j).
func (c Config) expandLines(a Axis, s int, lines [][]byte, emit func(h *leafHasher, line, j int, sym []byte)) {
	code := c.sliverCode(a)
	k := code.k
	batch := batchSize(len(lines), s)
	maxShard := newPacker(s, batch).shardBytes
	type state struct {
		enc *rsEncoder
		h   *leafHasher
		buf []byte
	}
	forBatches(len(lines), batch, func() *state {
		return &state{enc: code.newEncoder(maxShard), h: newLeafHasher(), buf: make([]byte, s)}
	}, func(st *state, lo, hi int) {
		p := newPacker(s, hi-lo)
		st.enc.setLen(p.shardBytes)
		for j := 0; j < k; j++ {
			shard := st.enc.source(j)
			p.clearTail(shard)
			for l := lo; l < hi; l++ {
				sym := lines[l][j*s : (j+1)*s]
				p.put(shard, l-lo, sym)
				emit(st.h, l, j, sym)
			}
		}
		st.enc.encode()
		for j := 0; j < code.m; j++ {
			shard := st.enc.recovery(j)
			for l := lo; l < hi; l++ {
				p.get(st.buf, shard, l-lo)
				emit(st.h, l, k+j, st.buf)
			}
		}
		st.h.flush()
	})
}

// lineRoots returns the Merkle root of each line's full expansion: what
// the metadata holds for the sliver.
func (c Config) lineRoots(a Axis, s int, lines [][]byte) []Hash {
	n := c.nShards
	leaves := make([]Hash, len(lines)*n)
	c.expandLines(a, s, lines, func(h *leafHasher, l, j int, sym []byte) {
		h.add(&leaves[l*n+j], sym)
	})
	roots := make([]Hash, len(lines))
	for l := range lines {
		roots[l] = merkleRoot(leaves[l*n : (l+1)*n])
	}
	return roots
}

// VerifySlivers checks each sliver against the metadata: shape, and the
// Merkle root over its expansion. It returns one error (nil when valid) per
// sliver, wrapping ErrInvalidSliver. Slivers may mix axes.
func (c Config) VerifySlivers(md *BlobMetadata, slivers []*Sliver) []error {
	errs := make([]error, len(slivers))
	for _, a := range []Axis{Primary, Secondary} {
		var lines [][]byte
		var which []int
		s := 0
		for i, sl := range slivers {
			if sl.Axis != a {
				continue
			}
			ss, err := c.checkShape(md, sl)
			if err != nil {
				errs[i] = err
				continue
			}
			s = ss
			lines = append(lines, sl.Data)
			which = append(which, i)
		}
		if len(lines) == 0 {
			continue
		}
		for l, root := range c.lineRoots(a, s, lines) {
			sl := slivers[which[l]]
			if want := md.SliverHash(a, sl.Index); root != want {
				errs[which[l]] = fmt.Errorf("%w: %s sliver %d does not match its hash in the metadata", ErrInvalidSliver, a, sl.Index)
			}
		}
	}
	return errs
}

// VerifySliver checks one sliver against the metadata.
func (c Config) VerifySliver(md *BlobMetadata, sl *Sliver) error {
	return c.VerifySlivers(md, []*Sliver{sl})[0]
}
