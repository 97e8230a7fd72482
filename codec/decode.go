package codec

import (
	"fmt"
)

// Consistency is how much a decoded blob is checked beyond its slivers.
type Consistency int

const (
	// ConsistencyDefault checks, as Walrus's default, that every systematic
	// primary sliver of the decoded blob matches the metadata: a wrongly
	// encoded blob is refused instead of served as bytes that depend on which
	// slivers were used.
	ConsistencyDefault Consistency = iota
	// ConsistencyStrict re-encodes the whole blob and compares the blob ID.
	ConsistencyStrict
	// ConsistencySkip checks only the slivers used.
	ConsistencySkip
)

// Decode reconstructs the blob from slivers of one axis: at least
// SourceSymbols(axis) distinct ones (more are ignored). Every sliver is
// checked against md first, unless verified says it already was (nil means
// none was). Invalid slivers are skipped; if too few remain the error wraps
// ErrNotEnoughSlivers. The consistency check then runs as mode says, and a
// blob that fails it gives ErrInconsistentEncoding. Wrong bytes are never
// returned.
func (c Config) Decode(md *BlobMetadata, slivers []*Sliver, verified []bool, mode Consistency) ([]byte, error) {
	if len(md.Hashes) != c.nShards {
		return nil, fmt.Errorf("%w: %d sliver pairs for %d shards", ErrInvalidMetadata, len(md.Hashes), c.nShards)
	}
	s, err := c.SymbolSize(md.UnencodedLength)
	if err != nil {
		return nil, err
	}
	if len(slivers) == 0 {
		return nil, fmt.Errorf("%w: no slivers", ErrNotEnoughSlivers)
	}
	a := slivers[0].Axis
	need := c.SourceSymbols(a)

	// Pick distinct slivers of the axis, and check the ones not yet verified.
	seen := make(map[uint16]bool, need)
	var pick []*Sliver
	var pickVerified []bool
	var toCheck []*Sliver
	var toCheckAt []int
	for i, sl := range slivers {
		if sl == nil || sl.Axis != a || seen[sl.Index] {
			continue
		}
		seen[sl.Index] = true
		ok := verified != nil && i < len(verified) && verified[i]
		if ok {
			if _, err := c.checkShape(md, sl); err != nil {
				return nil, err // a caller's "verified" sliver of the wrong shape is a bug, not data
			}
		} else {
			toCheck = append(toCheck, sl)
			toCheckAt = append(toCheckAt, len(pick))
		}
		pick = append(pick, sl)
		pickVerified = append(pickVerified, ok)
	}
	if len(toCheck) > 0 {
		errs := c.VerifySlivers(md, toCheck)
		good := pick[:0:0]
		goodAt := make([]bool, len(pick))
		for i := range goodAt {
			goodAt[i] = true
		}
		for j, err := range errs {
			if err != nil {
				goodAt[toCheckAt[j]] = false
			}
		}
		for i, sl := range pick {
			if goodAt[i] {
				good = append(good, sl)
			}
		}
		pick = good
	}
	if len(pick) < need {
		return nil, fmt.Errorf("%w: %d valid %s slivers, need %d", ErrNotEnoughSlivers, len(pick), a, need)
	}
	pick = pick[:need]

	blob, err := c.decodeSlivers(a, s, pick)
	if err != nil {
		return nil, err
	}
	if err := c.checkConsistency(md, a, s, blob, pick, mode); err != nil {
		return nil, err
	}
	return blob[:md.UnencodedLength], nil
}

// decodeSlivers runs the erasure decoder of axis a over the slivers (all
// of the right shape, distinct, exactly SourceSymbols(a) of them) and
// returns the zero-padded k1*k2*s blob.
func (c Config) decodeSlivers(a Axis, s int, slivers []*Sliver) ([]byte, error) {
	k1, k2 := c.k1, c.k2
	blob := make([]byte, k1*k2*s)
	present := make([]int, len(slivers))
	for i, sl := range slivers {
		present[i] = int(sl.Index)
	}
	// Decoding primary slivers (rows) uses the column code once per column;
	// decoding secondary slivers (columns) the row code once per row.
	code, lines := c.primary, k2
	if a == Secondary {
		code, lines = c.second, k1
	}
	plan, err := code.newDecodePlan(present)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEnoughSlivers, err)
	}
	for _, sl := range slivers {
		i := int(sl.Index)
		if i >= code.k {
			continue
		}
		if a == Primary { // a systematic row
			copy(blob[i*k2*s:(i+1)*k2*s], sl.Data)
			continue
		}
		for r := 0; r < k1; r++ { // a systematic column
			off := (r*k2 + i) * s
			copy(blob[off:off+s], sl.Data[r*s:(r+1)*s])
		}
	}
	batch := batchSize(lines, s)
	maxShard := newPacker(s, batch).shardBytes
	forBatches(lines, batch, func() *rsDecoder { return plan.newDecoder(maxShard) },
		func(dec *rsDecoder, lo, hi int) {
			p := newPacker(s, hi-lo)
			dec.setLen(p.shardBytes)
			for _, sl := range slivers {
				shard := dec.slot(int(sl.Index))
				p.clearTail(shard)
				for l := lo; l < hi; l++ {
					p.put(shard, l-lo, sl.Data[l*s:(l+1)*s])
				}
			}
			dec.decode()
			for i := 0; i < code.k; i++ {
				// Sources that were given are copied from their slivers
				// below: decoding overwrites their slots.
				if dec.pos[i] >= 0 {
					continue
				}
				shard := dec.source(i)
				for l := lo; l < hi; l++ {
					// Primary: source i is row i, line l is column l.
					// Secondary: source i is column i, line l is row l.
					r, col := i, l
					if a == Secondary {
						r, col = l, i
					}
					off := (r*k2 + col) * s
					p.get(blob[off:off+s], shard, l-lo)
				}
			}
		})
	return blob, nil
}

func (c Config) checkConsistency(md *BlobMetadata, a Axis, s int, blob []byte, used []*Sliver, mode Consistency) error {
	switch mode {
	case ConsistencySkip:
		return nil
	case ConsistencyStrict:
		m, err := c.ComputeMetadata(blob[:md.UnencodedLength])
		if err != nil {
			return err
		}
		if m.ID != md.BlobID() {
			return fmt.Errorf("%w: re-encoding gives blob ID %s, want %s", ErrInconsistentEncoding, m.ID, md.BlobID())
		}
		return nil
	}
	// Default: every systematic primary sliver (row of the blob) must match
	// its hash. Rows that were among the (verified) slivers used are known.
	known := make([]bool, c.k1)
	if a == Primary {
		for _, sl := range used {
			if int(sl.Index) < c.k1 {
				known[sl.Index] = true
			}
		}
	}
	var rows [][]byte
	var rowIdx []int
	rowLen := c.k2 * s
	for r := 0; r < c.k1; r++ {
		if !known[r] {
			rows = append(rows, blob[r*rowLen:(r+1)*rowLen])
			rowIdx = append(rowIdx, r)
		}
	}
	for i, root := range c.lineRoots(Primary, s, rows) {
		if root != md.SliverHash(Primary, uint16(rowIdx[i])) {
			return fmt.Errorf("%w: systematic primary sliver %d does not match the metadata", ErrInconsistentEncoding, rowIdx[i])
		}
	}
	return nil
}
