package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Reading quilts. The bytes are untrusted: every length is checked against
// what the columns can hold before anything is allocated, and malformed
// input gives ErrInvalidQuilt, never a panic. The same parser reads the
// whole blob (Quilt) and a few verified secondary slivers (QuiltColumns).

// columnSource is a quilt blob seen as its column stream.
type columnSource interface {
	geometry() (rows, cols, s int)
	// read returns n > 0 bytes of the stream of columns that starts at
	// column col, from byte off of that stream on. The caller has checked
	// that the bytes lie within the k2 columns.
	read(col, off, n int) ([]byte, error)
}

// readRange reads n bytes at byte off of the stream starting at column col,
// refusing to run past column end.
func readRange(src columnSource, col, end, off, n int) ([]byte, error) {
	rows, _, s := src.geometry()
	colSize := rows * s
	if off < 0 || n < 0 || end < col || uint64(off)+uint64(n) > uint64(end-col)*uint64(colSize) {
		return nil, fmt.Errorf("%w: %d bytes at offset %d run past the %d columns [%d, %d)", ErrInvalidQuilt, n, off, end-col, col, end)
	}
	if n == 0 {
		return []byte{}, nil
	}
	return src.read(col, off, n)
}

// ParseQuilt reads the index of a quilt blob for this number of shards. The
// Quilt aliases blob.
func (c Config) ParseQuilt(blob []byte) (*Quilt, error) {
	cells := c.k1 * c.k2
	if len(blob) == 0 || len(blob)%cells != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole %d x %d matrix", ErrInvalidQuilt, len(blob), c.k1, c.k2)
	}
	s := len(blob) / cells
	if s%2 != 0 || s > MaxSymbolSize {
		return nil, fmt.Errorf("%w: symbol size %d is not a blob's for %d shards", ErrInvalidQuilt, s, c.nShards)
	}
	q := &Quilt{Blob: blob, SymbolSize: s, rows: c.k1, cols: c.k2}
	index, err := readQuiltIndex(q)
	if err != nil {
		return nil, err
	}
	q.Index = *index
	return q, nil
}

func (q *Quilt) geometry() (rows, cols, s int) { return q.rows, q.cols, q.SymbolSize }

func (q *Quilt) read(col, off, n int) ([]byte, error) {
	out := make([]byte, n)
	colSize := q.rows * q.SymbolSize
	col += off / colSize
	r, j := (off%colSize)/q.SymbolSize, off%q.SymbolSize
	for dst := out; len(dst) > 0; {
		at := (r*q.cols+col)*q.SymbolSize + j
		k := copy(dst, q.Blob[at:at+q.SymbolSize-j])
		dst = dst[k:]
		j = 0
		if r++; r == q.rows {
			r, col = 0, col+1
		}
	}
	return out, nil
}

// File returns the file with the identifier (the first, should the index
// hold it twice, as Walrus).
func (q *Quilt) File(identifier string) (*QuiltFile, error) {
	p, err := q.Index.Lookup(identifier)
	if err != nil {
		return nil, err
	}
	return readIndexedFile(q, p)
}

// FileAt returns the file of a patch ID: the index must list a patch at
// exactly its columns.
func (q *Quilt) FileAt(id QuiltPatchInternalID) (*QuiltFile, error) {
	p, err := q.Index.LookupID(id)
	if err != nil {
		return nil, err
	}
	return readIndexedFile(q, p)
}

// Files returns every file, in quilt order.
func (q *Quilt) Files() ([]QuiltFile, error) {
	out := make([]QuiltFile, len(q.Index.Patches))
	for i := range q.Index.Patches {
		f, err := readIndexedFile(q, &q.Index.Patches[i])
		if err != nil {
			return nil, err
		}
		out[i] = *f
	}
	return out, nil
}

// readIndexedFile reads the patch the index lists, which must carry the
// index's identifier.
func readIndexedFile(src columnSource, p *QuiltPatch) (*QuiltFile, error) {
	f, err := readQuiltFile(src, int(p.Start), int(p.End))
	if err != nil {
		return nil, fmt.Errorf("patch %q: %w", truncate(p.Identifier), err)
	}
	if f.Identifier != p.Identifier {
		return nil, fmt.Errorf("%w: the index lists %q at columns [%d, %d), the patch there is %q",
			ErrInvalidQuilt, truncate(p.Identifier), p.Start, p.End, truncate(f.Identifier))
	}
	return f, nil
}

// readQuiltIndex reads the version, the index length and the BCS index from
// the first columns.
func readQuiltIndex(src columnSource) (*QuiltIndex, error) {
	rows, cols, s := src.geometry()
	colSize := rows * s
	limit := min(quiltMaxIndexCols, cols)
	head, err := readRange(src, 0, limit, 0, quiltIndexPrefix)
	if err != nil {
		return nil, err
	}
	if head[0] != quiltVersionV1 {
		return nil, fmt.Errorf("%w: unsupported quilt version %d", ErrInvalidQuilt, head[0])
	}
	size := uint64(binary.LittleEndian.Uint32(head[1:]))
	if size+quiltIndexPrefix > uint64(limit*colSize) {
		return nil, fmt.Errorf("%w: index of %d bytes does not fit %d columns of %d bytes", ErrInvalidQuilt, size, limit, colSize)
	}
	b, err := readRange(src, 0, limit, quiltIndexPrefix, int(size))
	if err != nil {
		return nil, err
	}
	x := &QuiltIndex{Columns: int(ceilDiv(size+quiltIndexPrefix, uint64(colSize)))}
	if err := x.unmarshalBCS(b, cols); err != nil {
		return nil, err
	}
	return x, nil
}

// unmarshalBCS decodes a BCS QuiltIndexV1 whose first patch starts at
// column x.Columns, and checks that every patch has columns of its own
// within the cols of the matrix.
func (x *QuiltIndex) unmarshalBCS(b []byte, cols int) error {
	r := bcsReader{b: b}
	fail := func(err error) error { return fmt.Errorf("%w: index: %w", ErrInvalidQuilt, err) }
	n, err := r.uleb()
	if err != nil {
		return fail(err)
	}
	// A patch takes at least 4 bytes (end, empty identifier, no tags).
	if n > (len(b)-r.off)/4 {
		return fail(fmt.Errorf("%w: %d patches in %d bytes", ErrBCS, n, len(b)-r.off))
	}
	x.Patches = make([]QuiltPatch, n)
	start := x.Columns
	for i := range x.Patches {
		p := &x.Patches[i]
		if p.End, err = r.u16(); err != nil {
			return fail(err)
		}
		if p.Identifier, err = r.str(); err != nil {
			return fail(err)
		}
		if p.Tags, err = r.tags(); err != nil {
			return fail(err)
		}
		if int(p.End) <= start || int(p.End) > cols {
			return fmt.Errorf("%w: index: patch %d (%q) spans columns [%d, %d) of %d", ErrInvalidQuilt, i, truncate(p.Identifier), start, p.End, cols)
		}
		p.Start = uint16(start)
		start = int(p.End)
	}
	if err := r.end(); err != nil {
		return fail(err)
	}
	return nil
}

// readQuiltFile reads the patch that occupies exactly columns [col, end).
func readQuiltFile(src columnSource, col, end int) (*QuiltFile, error) {
	rows, _, s := src.geometry()
	colSize := uint64(rows * s)
	head, err := readRange(src, col, end, 0, quiltPatchHeader)
	if err != nil {
		return nil, err
	}
	if head[0] != quiltVersionV1 {
		return nil, fmt.Errorf("%w: patch header version %d at column %d", ErrInvalidQuilt, head[0], col)
	}
	length := uint64(binary.LittleEndian.Uint32(head[1:]))
	mask := head[5]
	if got := ceilDiv(quiltPatchHeader+length, colSize); got != uint64(end-col) {
		return nil, fmt.Errorf("%w: the patch at column %d has %d bytes: %d columns, not %d", ErrInvalidQuilt, col, length, got, end-col)
	}
	off := quiltPatchHeader
	// section reads a u16-prefixed section and subtracts it from length.
	section := func(what string) ([]byte, error) {
		b, err := readRange(src, col, end, off, 2)
		if err != nil {
			return nil, err
		}
		n := uint64(binary.LittleEndian.Uint16(b))
		if 2+n > length {
			return nil, fmt.Errorf("%w: %s of %d bytes exceeds the patch's %d", ErrInvalidQuilt, what, n, length)
		}
		if b, err = readRange(src, col, end, off+2, int(n)); err != nil {
			return nil, err
		}
		off += 2 + int(n)
		length -= 2 + n
		return b, nil
	}
	idb, err := section("identifier")
	if err != nil {
		return nil, err
	}
	f := &QuiltFile{Tags: map[string]string{}}
	r := bcsReader{b: idb}
	if f.Identifier, err = r.str(); err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: identifier at column %d: %w", ErrInvalidQuilt, col, err)
	}
	if err := ValidateQuiltIdentifier(f.Identifier); err != nil {
		return nil, fmt.Errorf("%w: at column %d: %w", ErrInvalidQuilt, col, err)
	}
	if mask&quiltTagsFlag != 0 {
		tb, err := section("tags")
		if err != nil {
			return nil, err
		}
		r := bcsReader{b: tb}
		if f.Tags, err = r.tags(); err == nil {
			err = r.end()
		}
		if err != nil {
			return nil, fmt.Errorf("%w: tags of %q: %w", ErrInvalidQuilt, truncate(f.Identifier), err)
		}
	}
	if f.Data, err = readRange(src, col, end, off, int(length)); err != nil {
		return nil, err
	}
	return f, nil
}

// str reads a BCS String, which must be UTF-8.
func (r *bcsReader) str() (string, error) {
	n, err := r.uleb()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: string at byte %d is not UTF-8", ErrBCS, r.off-n)
	}
	return string(b), nil
}

// tags reads a BCS map<String,String>, whose keys must be in canonical
// order (strictly increasing serialized keys), as BCS requires.
func (r *bcsReader) tags() (map[string]string, error) {
	n, err := r.uleb()
	if err != nil {
		return nil, err
	}
	if n > (len(r.b)-r.off)/2 { // an entry takes at least 2 bytes
		return nil, fmt.Errorf("%w: %d map entries in %d bytes", ErrBCS, n, len(r.b)-r.off)
	}
	out := make(map[string]string, n)
	var prev []byte
	for i := 0; i < n; i++ {
		at := r.off
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		key := r.b[at:r.off]
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			return nil, fmt.Errorf("%w: map keys not in canonical order at byte %d", ErrBCS, at)
		}
		prev = key
		if out[k], err = r.str(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// QuiltColumns reads a quilt from some of its secondary slivers (columns),
// so that a reader fetches only the columns of the index and of the patch it
// wants instead of the whole blob. It does not verify slivers: check them
// against the quilt's metadata (Config.VerifySlivers) before adding them.
//
// To read a patch by identifier: add column 0, then the columns up to
// IndexColumns, call Index, and add the patch's columns [Start, End). By
// patch ID, add only [Start, End) and call FileAt.
type QuiltColumns struct {
	rows, cols, s int
	data          [][]byte // by column; nil when not given
	index         *QuiltIndex
}

// NewQuiltColumns returns an empty column set for the quilt blob of
// blobLength bytes (the unencoded length in its metadata).
func (c Config) NewQuiltColumns(blobLength uint64) (*QuiltColumns, error) {
	s, err := c.quiltGeometry(blobLength)
	if err != nil {
		return nil, err
	}
	return &QuiltColumns{rows: c.k1, cols: c.k2, s: s, data: make([][]byte, c.k2)}, nil
}

// quiltGeometry returns the symbol size of a quilt blob of blobLength
// bytes, which must fill the k1 x k2 matrix exactly as a quilt does.
func (c Config) quiltGeometry(blobLength uint64) (int, error) {
	s, err := c.SymbolSize(blobLength)
	if err != nil {
		return 0, err
	}
	if blobLength != uint64(c.k1*c.k2*s) {
		return 0, fmt.Errorf("%w: %d bytes is not a whole %d x %d matrix", ErrInvalidQuilt, blobLength, c.k1, c.k2)
	}
	return s, nil
}

// ColumnSize is the bytes of one column: one secondary sliver's data.
func (q *QuiltColumns) ColumnSize() int { return q.rows * q.s }

// Add adds secondary slivers of the quilt blob. Only systematic ones
// (index below k2) hold quilt bytes; any other is refused with
// ErrInvalidSliver, as is one of the wrong size. The data is not copied.
func (q *QuiltColumns) Add(slivers ...*Sliver) error {
	for _, sl := range slivers {
		switch {
		case sl.Axis != Secondary:
			return fmt.Errorf("%w: a quilt column is a secondary sliver, not %s sliver %d", ErrInvalidSliver, sl.Axis, sl.Index)
		case int(sl.Index) >= q.cols:
			return fmt.Errorf("%w: secondary sliver %d is not a quilt column (fewer than %d)", ErrInvalidSliver, sl.Index, q.cols)
		case int(sl.SymbolSize) != q.s || len(sl.Data) != q.rows*q.s:
			return fmt.Errorf("%w: secondary sliver %d has %d bytes of symbol size %d, want %d of %d", ErrInvalidSliver, sl.Index, len(sl.Data), sl.SymbolSize, q.rows*q.s, q.s)
		}
		q.data[sl.Index] = sl.Data
	}
	return nil
}

// Has says whether column col was added.
func (q *QuiltColumns) Has(col int) bool { return col >= 0 && col < q.cols && q.data[col] != nil }

func (q *QuiltColumns) geometry() (rows, cols, s int) { return q.rows, q.cols, q.s }

// read checks that every column it needs was given before it allocates.
func (q *QuiltColumns) read(col, off, n int) ([]byte, error) {
	colSize := q.rows * q.s
	first := col + off/colSize
	last := col + (off+n-1)/colSize
	var missing []int
	for c := first; c <= last; c++ {
		if q.data[c] == nil {
			missing = append(missing, c)
		}
	}
	if missing != nil {
		return nil, &MissingColumnsError{Start: first, End: last + 1, Missing: missing}
	}
	out := make([]byte, n)
	off -= (first - col) * colSize
	for c, dst := first, out; len(dst) > 0; c++ {
		k := copy(dst, q.data[c][off:])
		dst, off = dst[k:], 0
	}
	return out, nil
}

// IndexColumns returns how many columns the index spans, read from column
// 0 alone: the columns [0, IndexColumns) are what Index needs.
func (q *QuiltColumns) IndexColumns() (int, error) {
	if q.index != nil {
		return q.index.Columns, nil
	}
	head, err := readRange(q, 0, min(quiltMaxIndexCols, q.cols), 0, quiltIndexPrefix)
	if err != nil {
		return 0, err
	}
	if head[0] != quiltVersionV1 {
		return 0, fmt.Errorf("%w: unsupported quilt version %d", ErrInvalidQuilt, head[0])
	}
	size := uint64(binary.LittleEndian.Uint32(head[1:]))
	n := ceilDiv(size+quiltIndexPrefix, uint64(q.ColumnSize()))
	if n > uint64(min(quiltMaxIndexCols, q.cols)) {
		return 0, fmt.Errorf("%w: index of %d bytes spans %d columns", ErrInvalidQuilt, size, n)
	}
	return int(n), nil
}

// Index parses the index from columns [0, IndexColumns) and keeps it.
func (q *QuiltColumns) Index() (*QuiltIndex, error) {
	if q.index == nil {
		x, err := readQuiltIndex(q)
		if err != nil {
			return nil, err
		}
		q.index = x
	}
	return q.index, nil
}

// File returns the file with the identifier: it needs the index's columns
// and the patch's.
func (q *QuiltColumns) File(identifier string) (*QuiltFile, error) {
	x, err := q.Index()
	if err != nil {
		return nil, err
	}
	p, err := x.Lookup(identifier)
	if err != nil {
		return nil, err
	}
	return readIndexedFile(q, p)
}

// FileAt returns the file of a patch ID from the patch's columns alone.
// Columns that do not hold exactly one well-formed patch give
// ErrQuiltPatchNotFound; if the index was read, it must list the patch.
func (q *QuiltColumns) FileAt(id QuiltPatchInternalID) (*QuiltFile, error) {
	if q.index != nil {
		p, err := q.index.LookupID(id)
		if err != nil {
			return nil, err
		}
		return readIndexedFile(q, p)
	}
	if id.Start == 0 || id.Start >= id.End || int(id.End) > q.cols {
		return nil, fmt.Errorf("%w: columns [%d, %d) cannot hold a patch of %d", ErrQuiltPatchNotFound, id.Start, id.End, q.cols)
	}
	f, err := readQuiltFile(q, int(id.Start), int(id.End))
	if err != nil && !isMissing(err) {
		return nil, fmt.Errorf("%w: columns [%d, %d): %v", ErrQuiltPatchNotFound, id.Start, id.End, err)
	}
	return f, err
}

func isMissing(err error) bool {
	var m *MissingColumnsError
	return errors.As(err, &m)
}

// QuiltReadCost compares, in sliver bytes fetched from storage nodes, one
// patch read from its columns with decoding the whole quilt. Both also
// fetch the blob's metadata to verify slivers (66 bytes a shard in BCS),
// and each sliver's BCS framing adds a few bytes.
type QuiltReadCost struct {
	ColumnSize uint64 // one secondary sliver's data
	Index      uint64 // the index's columns: needed to find a patch by identifier, not by patch ID
	Patch      uint64 // the patch's columns
	Whole      uint64 // k1 primary slivers of k2 symbols: what decoding the whole quilt takes
}

// QuiltReadCost returns what reading the patch at id costs in a quilt blob
// of blobLength bytes whose index spans indexColumns columns.
func (c Config) QuiltReadCost(blobLength uint64, indexColumns int, id QuiltPatchInternalID) (QuiltReadCost, error) {
	s, err := c.quiltGeometry(blobLength)
	if err != nil {
		return QuiltReadCost{}, err
	}
	if indexColumns < 1 || indexColumns > quiltMaxIndexCols || id.Start < uint16(indexColumns) || id.Start >= id.End || int(id.End) > c.k2 {
		return QuiltReadCost{}, fmt.Errorf("%w: index columns %d, patch columns [%d, %d) of %d", ErrInvalidQuilt, indexColumns, id.Start, id.End, c.k2)
	}
	col := uint64(c.k1 * s)
	return QuiltReadCost{
		ColumnSize: col,
		Index:      uint64(indexColumns) * col,
		Patch:      uint64(id.End-id.Start) * col,
		Whole:      uint64(c.k1) * uint64(c.k2*s),
	}, nil
}
