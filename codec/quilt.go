package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A quilt is many small files ("patches") laid out in one blob, byte for
// byte Walrus's QuiltV1, so that a reader can fetch one patch from the few
// secondary slivers (columns of the blob matrix) that hold it instead of
// decoding the whole blob.
//
// The quilt blob is a k1 x k2 matrix of symbols (k1 = n-2f rows, k2 = n-f
// columns) with the symbol size s chosen for the quilt; stored as an
// ordinary blob it has exactly that symbol size, so column c of the quilt is
// secondary sliver c. Each column holds k1*s bytes, read top to bottom, and
// consecutive columns continue one another. The layout:
//
//	columns [0, m):    0x01 || index length u32 LE || BCS QuiltIndexV1 (m <= 10)
//	then per patch, in identifier order, from a fresh column:
//	                   0x01 || length u32 LE || mask u8          (header)
//	                   identifier size u16 LE || BCS String      (identifier)
//	                   [tags size u16 LE || BCS map]              (if mask & 1)
//	                   the file's bytes
//	zero padding to the end of each patch's last column and of the matrix.
//
// length counts everything after the header. QuiltIndexV1 is a BCS vector of
// {end column u16, identifier String, tags map<String,String>}; a patch's
// start column is the previous one's end (the first starts at m). s is the
// smallest even size for which every part fits its own columns and the
// index fits in 10.

const (
	quiltVersionV1     = 0x01
	quiltIndexPrefix   = 5  // version byte + index length u32
	quiltPatchHeader   = 6  // version byte + length u32 + mask byte
	quiltMaxIndexCols  = 10 // columns the index may span
	quiltTagsFlag      = 1  // header mask bit: a tags section follows the identifier
	quiltMaxSectionLen = math.MaxUint16

	// MaxQuiltIdentifierLength is the longest identifier in bytes, as
	// Walrus: its BCS form (a 3-byte length then the bytes) must stay below
	// 65535 bytes to fit the u16 identifier size.
	MaxQuiltIdentifierLength = 65531
)

// Errors of building and reading quilts. Callers branch on them with errors.Is.
var (
	// ErrInvalidQuiltIdentifier: an identifier Walrus refuses (empty, too
	// long, trailing whitespace, control characters, not UTF-8).
	ErrInvalidQuiltIdentifier = errors.New("invalid quilt patch identifier")
	// ErrDuplicateQuiltIdentifier: two files with one identifier.
	ErrDuplicateQuiltIdentifier = errors.New("duplicate quilt patch identifier")
	// ErrInvalidQuiltTags: tags that are not UTF-8, or whose BCS form
	// exceeds 65535 bytes.
	ErrInvalidQuiltTags = errors.New("invalid quilt patch tags")
	// ErrTooManyPatches: more files than columns to hold them (k2-1).
	ErrTooManyPatches = errors.New("too many patches for one quilt")
	// ErrQuiltTooLarge: the files need a symbol size above MaxSymbolSize, or
	// one file exceeds the 4 GiB a patch header can describe. The error
	// also wraps ErrBlobTooLarge.
	ErrQuiltTooLarge = errors.New("quilt too large")
	// ErrInvalidQuilt: bytes that are not a well-formed QuiltV1.
	ErrInvalidQuilt = errors.New("malformed quilt")
	// ErrQuiltPatchNotFound: no patch with that identifier or at those columns.
	ErrQuiltPatchNotFound = errors.New("quilt patch not found")
	// ErrMissingColumns: a read from some columns needs one not given; the
	// error is a *MissingColumnsError naming the columns.
	ErrMissingColumns = errors.New("quilt columns missing")
)

// MissingColumnsError says which columns (secondary slivers) a read needs:
// all of [Start, End), of which Missing were not given.
type MissingColumnsError struct {
	Start, End int
	Missing    []int
}

func (e *MissingColumnsError) Error() string {
	return fmt.Sprintf("%v: the read needs columns [%d, %d), missing %v", ErrMissingColumns, e.Start, e.End, e.Missing)
}

// Is makes errors.Is(err, ErrMissingColumns) true.
func (e *MissingColumnsError) Is(target error) bool { return target == ErrMissingColumns }

// QuiltFile is one file of a quilt: what goes in, and what a read gives back.
type QuiltFile struct {
	Identifier string
	Tags       map[string]string // nil or empty: no tags
	Data       []byte
}

// QuiltPatch is a file's entry in the quilt index.
type QuiltPatch struct {
	Identifier string
	Tags       map[string]string // never nil when read from an index
	// Start and End delimit the columns [Start, End) that hold the patch:
	// secondary slivers Start to End-1 of the quilt blob. Secondary sliver
	// c is in sliver pair SliverIndex(c, Secondary, n) = n-1-c, which shard
	// ShardForPair(quiltID, pair, n) stores.
	Start, End uint16
}

// InternalID returns the patch's QuiltPatchInternalIdV1.
func (p *QuiltPatch) InternalID() QuiltPatchInternalID {
	return QuiltPatchInternalID{Start: p.Start, End: p.End}
}

// ID returns the patch ID within the quilt stored as blob quilt.
func (p *QuiltPatch) ID(quilt BlobID) QuiltPatchID {
	return QuiltPatchID{Quilt: quilt, Patch: p.InternalID()}
}

// QuiltIndex is the quilt's table of contents.
type QuiltIndex struct {
	// Columns is how many columns the index spans: it lives in [0, Columns)
	// and the first patch starts at column Columns.
	Columns int
	// Patches in quilt order: sorted by identifier when the quilt was
	// built by haulout or Walrus. Identifiers are as stored: like Walrus,
	// listing does not validate them; reading a patch does.
	Patches []QuiltPatch
}

// Lookup returns the first patch with the identifier, as Walrus does.
func (x *QuiltIndex) Lookup(identifier string) (*QuiltPatch, error) {
	for i := range x.Patches {
		if x.Patches[i].Identifier == identifier {
			return &x.Patches[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no identifier %q", ErrQuiltPatchNotFound, truncate(identifier))
}

// LookupID returns the patch that occupies exactly the columns of id.
func (x *QuiltIndex) LookupID(id QuiltPatchInternalID) (*QuiltPatch, error) {
	for i := range x.Patches {
		if x.Patches[i].InternalID() == id {
			return &x.Patches[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no patch at columns [%d, %d)", ErrQuiltPatchNotFound, id.Start, id.End)
}

// Quilt is a quilt blob with its parsed index.
type Quilt struct {
	// Blob is the quilt blob, k1*k2*SymbolSize bytes. Store it as any blob:
	// its blob ID is the quilt ID, and its symbol size is SymbolSize.
	Blob       []byte
	SymbolSize int
	Index      QuiltIndex
	rows, cols int
}

// ColumnSize is the bytes of one column: one secondary sliver's data.
func (q *Quilt) ColumnSize() int { return q.rows * q.SymbolSize }

// ValidateQuiltIdentifier checks an identifier as Walrus does: not empty,
// at most MaxQuiltIdentifierLength bytes of UTF-8, no trailing whitespace,
// no control characters.
func ValidateQuiltIdentifier(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidQuiltIdentifier)
	case len(id) > MaxQuiltIdentifierLength:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidQuiltIdentifier, len(id), MaxQuiltIdentifierLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %q is not UTF-8", ErrInvalidQuiltIdentifier, truncate(id))
	case strings.TrimRightFunc(id, unicode.IsSpace) != id:
		return fmt.Errorf("%w: %q ends with whitespace", ErrInvalidQuiltIdentifier, truncate(id))
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: %q contains control characters", ErrInvalidQuiltIdentifier, truncate(id))
	}
	return nil
}

// MaxQuiltPatches is the most files one quilt holds for this many shards:
// one column each, after at least one column of index (666 at 1000 shards).
func (c Config) MaxQuiltPatches() int { return c.k2 - 1 }

// BuildQuilt lays files out as a QuiltV1 blob for this number of shards,
// sorted by identifier as Walrus's Rust code sorts them: by bytes. (Walrus's
// TypeScript SDK sorts by UTF-16 code units, which differs only when the
// first differing characters are one in U+E000..U+FFFF and one above
// U+FFFF.) The files are not modified and the quilt does not alias them. A
// quilt with no files is allowed, as in Walrus.
func (c Config) BuildQuilt(files []QuiltFile) (*Quilt, error) {
	return c.buildQuilt(files, strings.Compare)
}

// builtPatch is a file prepared for the layout: its prefix (header,
// identifier and tags sections) and a copy of its tags for the index.
type builtPatch struct {
	file   *QuiltFile
	prefix []byte
	tags   map[string]string
}

func (p *builtPatch) size() uint64 { return uint64(len(p.prefix)) + uint64(len(p.file.Data)) }

// buildQuilt is BuildQuilt with the identifier order as a parameter: Walrus's
// Rust code orders by bytes, its TypeScript SDK by UTF-16 code units, and the
// tests prove the layouts equal apart from that.
func (c Config) buildQuilt(files []QuiltFile, cmp func(a, b string) int) (*Quilt, error) {
	patches := make([]builtPatch, len(files))
	for i := range files {
		f := &files[i]
		prefix, err := quiltPatchPrefix(f)
		if err != nil {
			return nil, err
		}
		patches[i] = builtPatch{file: f, prefix: prefix, tags: cloneTags(f.Tags)}
	}
	slices.SortStableFunc(patches, func(a, b builtPatch) int { return cmp(a.file.Identifier, b.file.Identifier) })
	for i := 1; i < len(patches); i++ {
		if id := patches[i].file.Identifier; id == patches[i-1].file.Identifier {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateQuiltIdentifier, truncate(id))
		}
	}
	if len(patches) > c.MaxQuiltPatches() {
		return nil, fmt.Errorf("%w: %d files, at most %d for %d shards", ErrTooManyPatches, len(patches), c.MaxQuiltPatches(), c.nShards)
	}

	index := QuiltIndex{Patches: make([]QuiltPatch, len(patches))}
	for i := range patches {
		index.Patches[i] = QuiltPatch{Identifier: patches[i].file.Identifier, Tags: patches[i].tags}
	}
	// The ends are fixed-width u16s, so the size is known before they are.
	indexSize := len(index.appendBCS(nil))
	if uint64(indexSize) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %w: index of %d bytes", ErrQuiltTooLarge, ErrBlobTooLarge, indexSize)
	}
	sizes := make([]uint64, 1+len(patches))
	sizes[0] = uint64(quiltIndexPrefix + indexSize)
	for i := range patches {
		sizes[1+i] = patches[i].size()
	}
	s, err := c.quiltSymbolSize(sizes, quiltMaxIndexCols)
	if err != nil {
		return nil, err
	}

	q := &Quilt{Blob: make([]byte, c.k1*c.k2*s), SymbolSize: s, rows: c.k1, cols: c.k2}
	w := quiltWriter{blob: q.Blob, rows: c.k1, cols: c.k2, s: s}
	colSize := uint64(c.k1 * s)
	index.Columns = int(ceilDiv(sizes[0], colSize))
	col := index.Columns
	for i := range patches {
		p := &patches[i]
		w.write(col, 0, p.prefix)
		w.write(col, len(p.prefix), p.file.Data)
		index.Patches[i].Start = uint16(col)
		col += int(ceilDiv(p.size(), colSize))
		index.Patches[i].End = uint16(col)
	}
	head := make([]byte, quiltIndexPrefix, sizes[0])
	head[0] = quiltVersionV1
	binary.LittleEndian.PutUint32(head[1:], uint32(indexSize))
	w.write(0, 0, index.appendBCS(head))
	q.Index = index
	return q, nil
}

// quiltPatchPrefix returns what precedes a file's bytes in its columns:
// header, identifier section and, if it has tags, the tags section.
func quiltPatchPrefix(f *QuiltFile) ([]byte, error) {
	if err := ValidateQuiltIdentifier(f.Identifier); err != nil {
		return nil, err
	}
	idLen := ulebLen(uint64(len(f.Identifier))) + len(f.Identifier)
	if idLen >= quiltMaxSectionLen { // Walrus refuses 65535 too
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidQuiltIdentifier, len(f.Identifier))
	}
	var tags []byte
	if len(f.Tags) > 0 {
		for k, v := range f.Tags {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("%w: %q of %q is not UTF-8", ErrInvalidQuiltTags, truncate(k), truncate(f.Identifier))
			}
		}
		tags = appendBCSTags(nil, f.Tags)
		if len(tags) > quiltMaxSectionLen {
			return nil, fmt.Errorf("%w: %d bytes of tags for %q, at most %d", ErrInvalidQuiltTags, len(tags), truncate(f.Identifier), quiltMaxSectionLen)
		}
	}
	n := quiltPatchHeader + 2 + idLen
	if tags != nil {
		n += 2 + len(tags)
	}
	length := uint64(n-quiltPatchHeader) + uint64(len(f.Data))
	if length > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %w: %q has %d bytes, a patch holds at most %d", ErrQuiltTooLarge, ErrBlobTooLarge, truncate(f.Identifier), length, uint32(math.MaxUint32))
	}
	out := make([]byte, 0, n)
	var mask byte
	if tags != nil {
		mask = quiltTagsFlag
	}
	out = append(out, quiltVersionV1)
	out = binary.LittleEndian.AppendUint32(out, uint32(length))
	out = append(out, mask)
	out = binary.LittleEndian.AppendUint16(out, uint16(idLen))
	out = appendBCSString(out, f.Identifier)
	if tags != nil {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(tags)))
		out = append(out, tags...)
	}
	return out, nil
}

// quiltSymbolSize returns the smallest even symbol size for which every
// part (sizes[0] the index with its prefix, then the patches) fits in its
// own whole columns, the index in at most maxIndexCols, as Walrus computes
// it.
func (c Config) quiltSymbolSize(sizes []uint64, maxIndexCols int) (int, error) {
	rows, cols := uint64(c.k1), uint64(c.k2)
	if len(sizes) == 0 || uint64(len(sizes)) > cols {
		return 0, fmt.Errorf("%w: %d parts for %d columns", ErrTooManyPatches, len(sizes), cols)
	}
	var sum, largest uint64
	for _, v := range sizes {
		sum += v
		largest = max(largest, v)
	}
	fits := func(s uint64) bool {
		colSize, used := s*rows, uint64(0)
		for _, v := range sizes {
			if used += ceilDiv(v, colSize); used > cols {
				return false
			}
		}
		return true
	}
	lo := max(ceilDiv(sum, rows*cols), ceilDiv(sizes[0], rows*uint64(maxIndexCols)), ceilDiv(quiltIndexPrefix, rows))
	// With cols/len(sizes) columns each, the largest part fits: hi fits.
	hi := max(lo, ceilDiv(largest, cols/uint64(len(sizes))*rows))
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	s := lo + lo&1
	if s > MaxSymbolSize {
		return 0, fmt.Errorf("%w: %w: %d bytes in %d parts need symbol size %d, at most %d for %d shards",
			ErrQuiltTooLarge, ErrBlobTooLarge, sum, len(sizes), s, MaxSymbolSize, c.nShards)
	}
	return int(s), nil
}

// quiltWriter writes byte runs into the columns of a quilt blob.
type quiltWriter struct {
	blob          []byte
	rows, cols, s int
}

// write copies b into the column stream that starts at column col, from
// byte off of that stream on: down each column one symbol at a time, then
// on to the next column.
func (w *quiltWriter) write(col, off int, b []byte) {
	colSize := w.rows * w.s
	col += off / colSize
	r, j := (off%colSize)/w.s, off%w.s
	for len(b) > 0 {
		at := (r*w.cols+col)*w.s + j
		n := copy(w.blob[at:at+w.s-j], b)
		b = b[n:]
		j = 0
		if r++; r == w.rows {
			r, col = 0, col+1
		}
	}
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

func ulebLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func appendBCSString(out []byte, s string) []byte {
	out = appendULEB(out, uint64(len(s)))
	return append(out, s...)
}

// appendBCSTags appends a BCS map<String,String>: entries in the order of
// their serialized keys, as BCS requires (so a longer key sorts after a
// shorter one whatever its letters).
func appendBCSTags(out []byte, tags map[string]string) []byte {
	type entry struct {
		key []byte // serialized
		val string
	}
	entries := make([]entry, 0, len(tags))
	for k, v := range tags {
		entries = append(entries, entry{appendBCSString(nil, k), v})
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	out = appendULEB(out, uint64(len(entries)))
	for _, e := range entries {
		out = append(out, e.key...)
		out = appendBCSString(out, e.val)
	}
	return out
}

// appendBCS appends the BCS QuiltIndexV1: the patches with their end
// columns, identifiers and tags.
func (x *QuiltIndex) appendBCS(out []byte) []byte {
	out = appendULEB(out, uint64(len(x.Patches)))
	for i := range x.Patches {
		p := &x.Patches[i]
		out = binary.LittleEndian.AppendUint16(out, p.End)
		out = appendBCSString(out, p.Identifier)
		out = appendBCSTags(out, p.Tags)
	}
	return out
}

func cloneTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}
