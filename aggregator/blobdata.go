package aggregator

import (
	"bytes"
	"io"

	"github.com/haulout/haulout/codec"
)

// level is how strongly a blob's bytes were checked against its ID; a
// blob checked at some level serves requests that ask for that level or a
// weaker one.
type level int

const (
	// levelSkip: the slivers used were checked, not their consistency.
	levelSkip level = iota
	// levelDefault: every row of the blob matches its systematic primary
	// sliver hash in the metadata (Walrus's default check).
	levelDefault
	// levelStrict: re-encoding the blob gives its blob ID.
	levelStrict
)

func levelOf(mode codec.Consistency) level {
	switch mode {
	case codec.ConsistencySkip:
		return levelSkip
	case codec.ConsistencyStrict:
		return levelStrict
	}
	return levelDefault
}

func (l level) String() string {
	switch l {
	case levelSkip:
		return "skip"
	case levelStrict:
		return "strict"
	}
	return "default"
}

func parseLevel(s string) (level, bool) {
	switch s {
	case "default":
		return levelDefault, true
	case "strict":
		return levelStrict, true
	}
	return 0, false
}

// blobData is a blob held in memory as the rows of its matrix (the data of
// its systematic primary slivers, or slices of a decoded blob), so that a
// read needs no copy to assemble them: row i holds the bytes
// [i*rowLen, min((i+1)*rowLen, size)).
type blobData struct {
	size   int64
	rowLen int64
	rows   [][]byte
}

// newBlobData returns a blob of one contiguous buffer, viewed as rows of
// rowLen bytes (the whole buffer as one row when rowLen is 0).
func newBlobData(b []byte, rowLen int64) *blobData {
	size := int64(len(b))
	if rowLen <= 0 {
		rowLen = max(size, 1)
	}
	d := &blobData{size: size, rowLen: rowLen}
	for off := int64(0); off < size; off += rowLen {
		d.rows = append(d.rows, b[off:min(off+rowLen, size)])
	}
	return d
}

// chunk returns the bytes from off up to end or the end of off's row,
// whichever comes first; it does not copy.
func (d *blobData) chunk(off, end int64) []byte {
	r := off / d.rowLen
	row := d.rows[r]
	lo := off - r*d.rowLen
	hi := min(int64(len(row)), end-r*d.rowLen)
	return row[lo:hi]
}

// writeSpan writes the bytes [s.start, s.end) to w.
func (d *blobData) writeSpan(w io.Writer, s span) (int64, error) {
	var n int64
	for off := s.start; off < s.end; {
		c := d.chunk(off, s.end)
		m, err := w.Write(c)
		n += int64(m)
		if err != nil {
			return n, err
		}
		off += int64(len(c))
	}
	return n, nil
}

// prefix returns a copy of the first n bytes (fewer if the blob is
// shorter).
func (d *blobData) prefix(n int64) []byte {
	var b bytes.Buffer
	d.writeSpan(&b, span{0, min(n, d.size)})
	return b.Bytes()
}

// contiguous returns the blob as one buffer, copying only if it has
// several rows.
func (d *blobData) contiguous() []byte {
	if len(d.rows) == 1 {
		return d.rows[0]
	}
	b := make([]byte, 0, d.size)
	for _, r := range d.rows {
		b = append(b, r...)
	}
	return b
}
