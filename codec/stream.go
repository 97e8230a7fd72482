package codec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Streaming encoding: the same slivers and metadata as Encode, for a blob
// read through an io.ReaderAt and slivers written to a SliverFile, holding
// only bounded buffers and the n^2 leaf hashes (32 bytes each) in memory.
//
// It makes two passes, as Encode does in memory. The first reads the blob a
// block of rows at a time, writes those rows as primary slivers 0..k1 (the
// zero-padded blob) and runs the secondary code over each row, whose
// recovery symbols are secondary slivers k2..n. The second takes the n
// columns a group at a time (the source columns read back from the primary
// slivers, the others from the secondary slivers of the first pass), writes
// the source columns as secondary slivers 0..k2, runs the primary code over
// every column, whose recovery symbols in source columns are primary slivers
// k1..n, and hashes every cell of the n x n expanded matrix.

// SliverFile is what EncodeStream writes the slivers into, at the offsets of
// a SliverLayout, and reads some of them back from in its second pass. It
// must take concurrent calls on disjoint ranges (reads and writes overlap
// the coding). An *os.File serves.
type SliverFile interface {
	io.ReaderAt
	io.WriterAt
}

// SliverLayout places all slivers of one blob in one file: the n primary
// slivers by index, then the n secondary slivers by index. Primary slivers
// 0..k1 are then the zero-padded blob itself.
type SliverLayout struct {
	nShards, k1, k2, s int
	length             uint64
}

// SliverLayout returns the layout of the slivers of a blob of length bytes.
func (c Config) SliverLayout(length uint64) (SliverLayout, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return SliverLayout{}, err
	}
	return SliverLayout{nShards: c.nShards, k1: c.k1, k2: c.k2, s: s, length: length}, nil
}

// SymbolSize is the blob's symbol size.
func (l SliverLayout) SymbolSize() int { return l.s }

// SliverSize is the byte length of a sliver of the axis.
func (l SliverLayout) SliverSize(a Axis) int {
	if a == Primary {
		return l.k2 * l.s
	}
	return l.k1 * l.s
}

// Offset is where sliver index of the axis starts.
func (l SliverLayout) Offset(a Axis, index int) int64 {
	if a == Primary {
		return int64(index) * int64(l.k2*l.s)
	}
	return int64(l.nShards)*int64(l.k2*l.s) + int64(index)*int64(l.k1*l.s)
}

// Size is the length of the whole sliver file.
func (l SliverLayout) Size() int64 { return int64(l.nShards) * int64((l.k1+l.k2)*l.s) }

// ReadSliver reads sliver index of the axis from r. buf, if large enough,
// holds the sliver's data (the sliver aliases it).
func (l SliverLayout) ReadSliver(r io.ReaderAt, a Axis, index uint16, buf []byte) (Sliver, error) {
	if int(index) >= l.nShards {
		return Sliver{}, fmt.Errorf("sliver index %d out of range for %d shards", index, l.nShards)
	}
	size := l.SliverSize(a)
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size:size]
	if err := readFull(r, buf, l.Offset(a, int(index))); err != nil {
		return Sliver{}, fmt.Errorf("reading %s sliver %d: %w", a, index, err)
	}
	return Sliver{Axis: a, Index: index, SymbolSize: uint16(l.s), Data: buf}, nil
}

// DefaultStreamBuffer is the default bound of a streaming encoding's block
// buffers.
const DefaultStreamBuffer = 64 << 20

// StreamEncoder encodes blobs from an io.ReaderAt to a SliverFile.
type StreamEncoder struct {
	Config Config
	// BufferBytes bounds the block buffers of each pass, two blocks of
	// half of it (default DefaultStreamBuffer); a pass always takes at
	// least one row or column per block.
	BufferBytes int
}

// EncodeStream is StreamEncoder{Config: c}.Encode.
func (c Config) EncodeStream(ctx context.Context, blob io.ReaderAt, length int64, out SliverFile) (*Metadata, error) {
	return StreamEncoder{Config: c}.Encode(ctx, blob, length, out)
}

// StreamMemory estimates the heap a streaming encoding of a blob of length
// bytes holds: the leaf hashes, the block buffers and the workers' areas.
func (e StreamEncoder) StreamMemory(length uint64) int64 {
	c := e.Config
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0
	}
	leaves := int64(c.nShards) * int64(c.nShards) * 32
	bufs := int64(max(e.bufferBytes(), 2*c.nShards*s)) * int64(2*c.nShards+1) / int64(2*c.nShards)
	maxShard := newPacker(s, max(1, (8<<10)/s)).shardBytes
	work := int64(runtime.GOMAXPROCS(0)) * int64(max(c.primary.encodeWorkCount(), c.second.encodeWorkCount())*maxShard+s)
	return leaves + bufs + work
}

func (e StreamEncoder) bufferBytes() int {
	if e.BufferBytes > 0 {
		return e.BufferBytes
	}
	return DefaultStreamBuffer
}

// Encode reads the blob of length bytes from blob, writes all its slivers to
// out as SliverLayout places them (out must hold nothing else there; it is
// written in full), and returns the metadata, equal to Encode's. It stops
// with ctx's error between blocks.
func (e StreamEncoder) Encode(ctx context.Context, blob io.ReaderAt, length int64, out SliverFile) (*Metadata, error) {
	c := e.Config
	if c.nShards == 0 {
		return nil, fmt.Errorf("%w: zero Config", ErrInvalidShardCount)
	}
	if length < 0 {
		return nil, fmt.Errorf("negative blob length %d", length)
	}
	l, err := c.SliverLayout(uint64(length))
	if err != nil {
		return nil, err
	}
	st := &streaming{c: c, l: l, s: l.s, blob: blob, length: length, out: out, buf: e.bufferBytes(),
		leaves: make([]Hash, c.nShards*c.nShards)}
	// One area serves the block buffers of both passes.
	n, s := c.nShards, l.s
	block := max(1, min(c.k1, st.buf/2/(n*s)))
	group := max(1, min(n, st.buf/2/(n*s)))
	st.area = make([]byte, max(2*block*n*s, group*(2*n+1)*s))
	if err := st.rows(ctx); err != nil {
		return nil, err
	}
	if err := st.columns(ctx); err != nil {
		return nil, err
	}
	st.area = nil
	enc := encoding{c: c, leaves: st.leaves}
	rowRoots, colRoots := enc.roots()
	md := &Metadata{BlobMetadata: BlobMetadata{
		EncodingType:    RS2,
		UnencodedLength: uint64(length),
		Hashes:          make([]SliverPairMetadata, n),
	}}
	for p := range md.Hashes {
		md.Hashes[p] = SliverPairMetadata{Primary: digestNode(rowRoots[p]), Secondary: digestNode(colRoots[n-1-p])}
	}
	md.ID = md.BlobID()
	return md, nil
}

type streaming struct {
	c      Config
	l      SliverLayout
	s      int
	blob   io.ReaderAt
	length int64
	out    SliverFile
	buf    int
	leaves []Hash
	area   []byte // the block buffers, shared by both passes
}

// take returns the block buffers of a pass, from one area shared by both.
func (st *streaming) take(sizes ...int) [][]byte {
	total := 0
	for _, n := range sizes {
		total += n
	}
	if cap(st.area) < total {
		st.area = make([]byte, total)
	}
	out := make([][]byte, len(sizes))
	off := 0
	for i, n := range sizes {
		out[i] = st.area[off : off+n : off+n]
		off += n
	}
	return out
}

// readFull reads len(p) bytes at off: a short read is an error, and io.EOF
// with a full read is not.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func writeFull(w io.WriterAt, p []byte, off int64) error {
	if _, err := w.WriteAt(p, off); err != nil {
		return fmt.Errorf("writing slivers: %w", err)
	}
	return nil
}

// readBlob fills p with the blob's bytes from off, zeros past its end.
func (st *streaming) readBlob(p []byte, off int64) error {
	avail := max(0, min(int64(len(p)), st.length-off))
	if err := readFull(st.blob, p[:avail], off); err != nil {
		return fmt.Errorf("reading the blob at %d: %w", off, err)
	}
	clear(p[avail:])
	return nil
}

// pipeline runs a pass of nBlocks blocks over two buffer slots: while the
// workers compute block i in one slot, another goroutine stores block i-1
// and loads block i+1 in the other, so that reading and writing overlap
// the coding. It stops at the first error, or when ctx ends.
func pipeline(ctx context.Context, nBlocks int, load func(i, slot int) error, compute func(i, slot int), store func(i, slot int) error) error {
	if nBlocks == 0 {
		return nil
	}
	if err := load(0, 0); err != nil {
		return err
	}
	for i := 0; i < nBlocks; i++ {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		other := (i + 1) % 2
		ioErr := make(chan error, 1)
		go func() {
			if i > 0 {
				if err := store(i-1, other); err != nil {
					ioErr <- err
					return
				}
			}
			if i+1 < nBlocks {
				ioErr <- load(i+1, other)
				return
			}
			ioErr <- nil
		}()
		compute(i, i%2)
		if err := <-ioErr; err != nil {
			return err
		}
	}
	return store(nBlocks-1, (nBlocks-1)%2)
}

// rows is the first pass: primary slivers 0..k1 and the secondary code over
// every row (secondary slivers k2..n).
func (st *streaming) rows(ctx context.Context) error {
	c, s := st.c, st.s
	k1, k2, f := c.k1, c.k2, c.nShards-c.k2
	rowBytes := k2 * s
	block := max(1, min(k1, st.buf/2/((k2+f)*s)))
	bufs := st.take(block*rowBytes, f*block*s, block*rowBytes, f*block*s)
	// rec holds recovery column j of a block at j*block*s.
	rows, rec := [2][]byte{bufs[0], bufs[2]}, [2][]byte{bufs[1], bufs[3]}
	maxShard := newPacker(s, max(1, (8<<10)/s)).shardBytes
	workers := newStates(func() *rsEncoder { return c.second.newEncoder(maxShard) })
	span := func(i int) (lo, cnt int) { return i * block, min(block, k1-i*block) }
	load := func(i, slot int) error {
		lo, cnt := span(i)
		blk := rows[slot][:cnt*rowBytes]
		if err := st.readBlob(blk, int64(lo)*int64(rowBytes)); err != nil {
			return err
		}
		return writeFull(st.out, blk, st.l.Offset(Primary, lo))
	}
	compute := func(i, slot int) {
		_, cnt := span(i)
		blk, rc := rows[slot], rec[slot]
		workers.run(cnt, batchSize(cnt, s), func(enc *rsEncoder, a, b int) {
			p := newPacker(s, b-a)
			enc.setLen(p.shardBytes)
			for col := 0; col < k2; col++ {
				shard := enc.source(col)
				p.clearTail(shard)
				for r := a; r < b; r++ {
					off := (r*k2 + col) * s
					p.put(shard, r-a, blk[off:off+s])
				}
			}
			enc.encode()
			for j := 0; j < f; j++ {
				shard := enc.recovery(j)
				for r := a; r < b; r++ {
					off := (j*block + r) * s
					p.get(rc[off:off+s], shard, r-a)
				}
			}
		})
	}
	store := func(i, slot int) error {
		lo, cnt := span(i)
		for j := 0; j < f; j++ {
			part := rec[slot][j*block*s : (j*block+cnt)*s]
			if err := writeFull(st.out, part, st.l.Offset(Secondary, k2+j)+int64(lo*s)); err != nil {
				return err
			}
		}
		return nil
	}
	return pipeline(ctx, (k1+block-1)/block, load, compute, store)
}

// columns is the second pass: secondary slivers 0..k2, the primary code over
// every column (primary slivers k1..n) and every leaf hash.
func (st *streaming) columns(ctx context.Context) error {
	c, s, n := st.c, st.s, st.c.nShards
	k1, k2, m := c.k1, c.k2, n-c.k1
	group := max(1, min(n, st.buf/2/(n*s)))
	// Groups of columns, split at k2: source columns, then the others.
	var groups [][2]int
	for lo := 0; lo < n; {
		hi := min(lo+group, n)
		if lo < k2 {
			hi = min(hi, k2)
		}
		groups = append(groups, [2]int{lo, hi})
		lo = hi
	}
	// cols is column-major (as secondary slivers); prim holds the new rows
	// of source columns, row-major; row is one row of source columns.
	bufs := st.take(group*k1*s, m*group*s, group*s, group*k1*s, m*group*s)
	cols, prim, row := [2][]byte{bufs[0], bufs[3]}, [2][]byte{bufs[1], bufs[4]}, bufs[2]
	maxShard := newPacker(s, max(1, (8<<10)/s)).shardBytes
	workers := newStates(func() *columnState {
		return &columnState{enc: c.primary.newEncoder(maxShard), h: newLeafHasher(), buf: make([]byte, s)}
	})
	load := func(g, slot int) error {
		lo, hi := groups[g][0], groups[g][1]
		cnt := hi - lo
		blk := cols[slot][:cnt*k1*s]
		if lo >= k2 {
			if err := readFull(st.out, blk, st.l.Offset(Secondary, lo)); err != nil {
				return fmt.Errorf("reading back secondary slivers %d..%d: %w", lo, hi, err)
			}
			return nil
		}
		// Source columns: read row by row from the primary slivers the
		// first pass wrote, then written back as secondary slivers.
		seg := row[:cnt*s]
		for r := 0; r < k1; r++ {
			if err := readFull(st.out, seg, st.l.Offset(Primary, r)+int64(lo*s)); err != nil {
				return fmt.Errorf("reading back primary sliver %d: %w", r, err)
			}
			for i := 0; i < cnt; i++ {
				copy(blk[(i*k1+r)*s:(i*k1+r+1)*s], seg[i*s:(i+1)*s])
			}
		}
		return writeFull(st.out, blk, st.l.Offset(Secondary, lo))
	}
	compute := func(g, slot int) {
		lo, hi := groups[g][0], groups[g][1]
		blk, pr := cols[slot], prim[slot]
		workers.run(hi-lo, batchSize(hi-lo, s), func(w *columnState, a, b int) {
			p := newPacker(s, b-a)
			w.enc.setLen(p.shardBytes)
			for r := 0; r < k1; r++ {
				shard := w.enc.source(r)
				p.clearTail(shard)
				for i := a; i < b; i++ {
					sym := blk[(i*k1+r)*s : (i*k1+r+1)*s]
					p.put(shard, i-a, sym)
					w.h.add(&st.leaves[r*n+lo+i], sym)
				}
			}
			w.enc.encode()
			for j := 0; j < m; j++ {
				shard := w.enc.recovery(j)
				for i := a; i < b; i++ {
					dst := w.buf
					if lo < k2 {
						dst = pr[(j*group+i)*s : (j*group+i+1)*s]
					}
					p.get(dst, shard, i-a)
					w.h.add(&st.leaves[(k1+j)*n+lo+i], dst)
				}
			}
			w.h.flush()
		})
	}
	store := func(g, slot int) error {
		lo, hi := groups[g][0], groups[g][1]
		if lo >= k2 {
			return nil
		}
		for j := 0; j < m; j++ {
			part := prim[slot][j*group*s : (j*group+hi-lo)*s]
			if err := writeFull(st.out, part, st.l.Offset(Primary, k1+j)+int64(lo*s)); err != nil {
				return err
			}
		}
		return nil
	}
	return pipeline(ctx, len(groups), load, compute, store)
}

// states keeps one work state per worker across the blocks of a pass, so
// that the work areas are made once.
type states[S any] struct {
	all []S
}

func newStates[S any](newState func() S) *states[S] {
	all := make([]S, runtime.GOMAXPROCS(0))
	for i := range all {
		all[i] = newState()
	}
	return &states[S]{all: all}
}

// run is forBatches with the kept states.
func (w *states[S]) run(items, batch int, fn func(st S, lo, hi int)) {
	nBatches := (items + batch - 1) / batch
	workers := min(len(w.all), nBatches)
	var next atomic.Int64
	work := func(st S) {
		for {
			b := int(next.Add(1) - 1)
			if b >= nBatches {
				return
			}
			lo := b * batch
			fn(st, lo, min(lo+batch, items))
		}
	}
	if workers <= 1 {
		work(w.all[0])
		return
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { work(w.all[i]) })
	}
	wg.Wait()
}
