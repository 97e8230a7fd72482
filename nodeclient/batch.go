package nodeclient

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/haulout/haulout/codec"
)

// The body of PUT /v1/blobs/{blob_id}/slivers, haulout's batch route (not
// in Walrus), carries all of one node's slivers for one blob. It is BCS, so
// that a Rust or TypeScript client writes it with the BCS libraries it
// already has:
//
//	SliverBatch = Vec<BatchSliver>                        (ULEB128 count)
//	BatchSliver = pair_index: u16 LE
//	              || axis: u8 (0 primary, 1 secondary)
//	              || SliverData                           (as PUT .../slivers/{pair}/{axis})
//	SliverData  = data: Vec<u8> || symbol_size: u16 LE || index: u16 LE
//
// Each entry is what one PUT /v1/blobs/{blob_id}/slivers/{pair}/{axis}
// would carry, with the pair index and axis of its URL in front. The node
// reads the body as it arrives, checking each length against its limits
// before reading the bytes.

// BatchSliver is one entry of a sliver batch: a sliver and the pair it
// belongs to.
type BatchSliver struct {
	Pair   uint16
	Sliver *codec.Sliver
}

// batchEntryOverhead is the BCS bytes of one entry besides the sliver data
// and its length prefix: pair, axis, symbol size, index.
const batchEntryOverhead = 2 + 1 + 2 + 2

// BatchSize returns the length of the batch body of slivers.
func BatchSize(slivers []BatchSliver) int64 {
	n := int64(ulebLen(uint64(len(slivers))))
	for _, s := range slivers {
		n += batchEntryOverhead + int64(ulebLen(uint64(len(s.Sliver.Data)))+len(s.Sliver.Data))
	}
	return n
}

// AppendBatch appends the batch body of slivers to b.
func AppendBatch(b []byte, slivers []BatchSliver) []byte {
	b = appendULEB(b, uint64(len(slivers)))
	for _, s := range slivers {
		b = appendBatchHeader(b, s)
		b = append(b, s.Sliver.Data...)
		b = appendBatchTrailer(b, s.Sliver)
	}
	return b
}

func appendBatchHeader(b []byte, s BatchSliver) []byte {
	b = binary.LittleEndian.AppendUint16(b, s.Pair)
	b = append(b, byte(s.Sliver.Axis))
	return appendULEB(b, uint64(len(s.Sliver.Data)))
}

func appendBatchTrailer(b []byte, s *codec.Sliver) []byte {
	b = binary.LittleEndian.AppendUint16(b, s.SymbolSize)
	return binary.LittleEndian.AppendUint16(b, s.Index)
}

// batchPieces returns the batch body of slivers as pieces to send in
// order, without copying the slivers' data: the framing between two data
// slices (one entry's trailer and the next one's header) is one small
// piece of a shared buffer.
func batchPieces(slivers []BatchSliver) [][]byte {
	frame := make([]byte, 0, 10+len(slivers)*(batchEntryOverhead+5))
	bounds := make([]int, 0, len(slivers)+2)
	frame = appendULEB(frame, uint64(len(slivers)))
	for i, s := range slivers {
		if i > 0 {
			frame = appendBatchTrailer(frame, slivers[i-1].Sliver)
		}
		frame = appendBatchHeader(frame, s)
		bounds = append(bounds, len(frame))
	}
	if len(slivers) > 0 {
		frame = appendBatchTrailer(frame, slivers[len(slivers)-1].Sliver)
	}
	bounds = append(bounds, len(frame))
	pieces := make([][]byte, 0, 2*len(slivers)+1)
	start := 0
	for i, end := range bounds {
		pieces = append(pieces, frame[start:end:end])
		if i < len(slivers) {
			pieces = append(pieces, slivers[i].Sliver.Data)
		}
		start = end
	}
	return pieces
}

// BatchLimits bound what ReadBatch accepts, so that a body cannot make the
// reader allocate more than the caller allows.
type BatchLimits struct {
	// MaxSlivers is the most entries a batch may hold.
	MaxSlivers int
	// MaxSliverBytes is the most data one sliver may hold.
	MaxSliverBytes int
}

// ErrBatchLimit reports a batch beyond its BatchLimits.
var ErrBatchLimit = errors.New("nodeclient: sliver batch exceeds its limits")

// BatchReader reads a batch body as it arrives, one sliver at a time.
type BatchReader struct {
	r      bcsReader
	limits BatchLimits
	count  int
	read   int
	err    error
	last   []byte
}

// NewBatchReader returns a reader of the batch body r. It reads the count
// first: Len reports it, or the error, before the first Next.
func NewBatchReader(r io.Reader, limits BatchLimits) *BatchReader {
	src, ok := r.(byteSource)
	if !ok {
		src = bufio.NewReaderSize(r, 64<<10)
	}
	br := &BatchReader{r: bcsReader{src: src}, limits: limits}
	br.count, br.err = br.r.uleb("sliver count")
	if br.err == nil && br.count > limits.MaxSlivers {
		br.err = fmt.Errorf("%w: %d slivers, at most %d", ErrBatchLimit, br.count, limits.MaxSlivers)
	}
	return br
}

// Len returns the number of slivers the batch says it holds, and the error
// reading that count gave.
func (br *BatchReader) Len() (int, error) { return br.count, br.err }

// Next returns the next sliver, with its data in a new slice. After the
// last one it checks that the body ends and returns io.EOF. Errors wrap
// ErrMalformed (not BCS, or not a sliver), ErrBatchLimit, or the error of
// the underlying reader; once Next fails it keeps failing.
func (br *BatchReader) Next() (BatchSliver, error) {
	if br.err != nil {
		return BatchSliver{}, br.err
	}
	if br.read == br.count {
		if br.err = br.r.end(); br.err == nil {
			br.err = io.EOF
		}
		return BatchSliver{}, br.err
	}
	s, err := br.next()
	if err != nil {
		br.err = fmt.Errorf("sliver %d of %d: %w", br.read, br.count, err)
		return BatchSliver{}, br.err
	}
	br.read++
	return s, nil
}

func (br *BatchReader) next() (BatchSliver, error) {
	r := &br.r
	pair, err := r.u16("pair index")
	if err != nil {
		return BatchSliver{}, err
	}
	axis, err := r.u8("axis")
	if err != nil {
		return BatchSliver{}, err
	}
	if axis > 1 {
		return BatchSliver{}, fmt.Errorf("%w: axis %d", ErrMalformed, axis)
	}
	n, err := r.uleb("sliver length")
	if err != nil {
		return BatchSliver{}, err
	}
	if n > br.limits.MaxSliverBytes {
		return BatchSliver{}, fmt.Errorf("%w: sliver of %d bytes, at most %d", ErrBatchLimit, n, br.limits.MaxSliverBytes)
	}
	// One buffer holds the sliver's whole SliverData BCS, so that a node
	// stores it as it came (LastBCS) while Data aliases the middle.
	head := ulebLen(uint64(n))
	buf := make([]byte, head+n+4)
	appendULEB(buf[:0], uint64(n))
	if err := r.full(buf[head:], "sliver data"); err != nil {
		return BatchSliver{}, err
	}
	ss := binary.LittleEndian.Uint16(buf[head+n:])
	idx := binary.LittleEndian.Uint16(buf[head+n+2:])
	if ss == 0 || n%int(ss) != 0 {
		return BatchSliver{}, fmt.Errorf("%w: sliver of %d bytes with symbol size %d", ErrMalformed, n, ss)
	}
	br.last = buf
	return BatchSliver{Pair: pair, Sliver: &codec.Sliver{Axis: codec.Axis(axis), Index: idx, SymbolSize: ss, Data: buf[head : head+n : head+n]}}, nil
}

// LastBCS returns the SliverData BCS (as PUT .../slivers/{pair}/{axis}
// carries it) of the sliver Next returned last, sharing memory with its
// Data.
func (br *BatchReader) LastBCS() []byte { return br.last }
