package codec

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"testing"
)

// Quilt parsers read untrusted bytes: they must never panic, must refuse
// with typed errors, and the whole-blob and column readers must agree.

// quiltColumnsOf returns the columns of a quilt blob given by mask (bit i:
// column i) as a QuiltColumns.
func quiltColumnsOf(t *testing.T, c Config, q *Quilt, mask uint16) *QuiltColumns {
	t.Helper()
	cols, err := c.NewQuiltColumns(uint64(len(q.Blob)))
	if err != nil {
		t.Fatalf("NewQuiltColumns for a parsed quilt: %v", err)
	}
	for i := 0; i < c.k2; i++ {
		if mask&(1<<i) != 0 {
			if err := cols.Add(&Sliver{Axis: Secondary, Index: uint16(i), SymbolSize: uint16(q.SymbolSize), Data: q.column(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cols
}

// sameRead checks a read from some columns against the read from the whole
// blob: the same file, or the same refusal, or (with columns left out)
// ErrMissingColumns.
func sameRead(t *testing.T, what string, whole *QuiltFile, wholeErr error, part *QuiltFile, partErr error, allColumns bool) {
	t.Helper()
	if partErr != nil && !allColumns && errors.Is(partErr, ErrMissingColumns) {
		return
	}
	if (wholeErr == nil) != (partErr == nil) {
		t.Fatalf("%s: whole blob: %v; columns: %v", what, wholeErr, partErr)
	}
	if wholeErr == nil {
		if whole.Identifier != part.Identifier || !bytes.Equal(whole.Data, part.Data) || !maps.Equal(whole.Tags, part.Tags) {
			t.Fatalf("%s: the whole blob and the columns give different files", what)
		}
		if err := ValidateQuiltIdentifier(whole.Identifier); err != nil {
			t.Fatalf("%s: a read gave an invalid identifier: %v", what, err)
		}
	}
}

func checkQuiltErr(t *testing.T, err error, allowed ...error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, a := range allowed {
		if errors.Is(err, a) {
			return
		}
	}
	t.Fatalf("untyped error: %v", err)
}

func FuzzParseQuilt(f *testing.F) {
	c, q := validQuilt(f)
	f.Add(q.Blob, uint16(0xffff))
	f.Add(q.Blob, uint16(0b10101))
	for _, n := range []int{4, 7} {
		cn := mustConfig(f, n)
		for _, files := range [][]QuiltFile{
			nil,
			{{Identifier: "x", Data: []byte("hello")}},
			{{Identifier: "t", Tags: map[string]string{"content-type": "text/plain", "a": "b"}, Data: goldenInput(100, 1)}},
		} {
			if qq, err := cn.BuildQuilt(files); err == nil && n == 7 {
				f.Add(qq.Blob, uint16(0xffff))
			}
		}
	}
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff}, uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, mask uint16) {
		if _, err := c.ParseQuilt(b); err != nil {
			checkQuiltErr(t, err, ErrInvalidQuilt)
		}
		// The same bytes padded to a whole matrix of an even symbol size.
		cells := 2 * c.k1 * c.k2
		blob := append(bytes.Clone(b), make([]byte, (cells-len(b)%cells)%cells)...)
		q, err := c.ParseQuilt(blob)
		if err != nil {
			checkQuiltErr(t, err, ErrInvalidQuilt)
			if s := len(blob) / (c.k1 * c.k2); s > 0 && s <= MaxSymbolSize {
				cols := quiltColumnsOf(t, c, &Quilt{Blob: blob, SymbolSize: s, rows: c.k1, cols: c.k2}, 0xffff)
				if _, err := cols.Index(); err == nil {
					t.Fatal("the columns parse an index the whole blob refuses")
				}
			}
			return
		}
		full := uint16(1)<<c.k2 - 1
		all := mask&full == full
		cols := quiltColumnsOf(t, c, q, mask)
		x, err := cols.Index()
		if err == nil {
			if !indexEqual(x, &q.Index) {
				t.Fatal("the columns and the whole blob parse different indexes")
			}
		} else if all || !errors.Is(err, ErrMissingColumns) {
			t.Fatalf("the whole blob parses, the columns do not: %v", err)
		}
		files, err := q.Files()
		checkQuiltErr(t, err, ErrInvalidQuilt)
		for i := range q.Index.Patches {
			p := &q.Index.Patches[i]
			whole, wholeErr := q.FileAt(p.InternalID())
			checkQuiltErr(t, wholeErr, ErrInvalidQuilt, ErrQuiltPatchNotFound)
			if files != nil && (wholeErr != nil || !bytes.Equal(files[i].Data, whole.Data)) {
				t.Fatal("Files and FileAt disagree")
			}
			byID := quiltColumnsOf(t, c, q, mask) // without the index
			part, partErr := byID.FileAt(p.InternalID())
			checkQuiltErr(t, partErr, ErrQuiltPatchNotFound, ErrMissingColumns)
			// Without the index the columns cannot check the identifier
			// the index gives, so only a file the whole blob reads must match.
			if wholeErr == nil {
				sameRead(t, "by patch ID", whole, nil, part, partErr, all)
			}
			w, werr := q.File(p.Identifier)
			checkQuiltErr(t, werr, ErrInvalidQuilt, ErrQuiltPatchNotFound)
			if x != nil {
				pp, perr := cols.File(p.Identifier)
				checkQuiltErr(t, perr, ErrInvalidQuilt, ErrQuiltPatchNotFound, ErrMissingColumns)
				sameRead(t, "by identifier", w, werr, pp, perr, all)
			}
		}
	})
}

func FuzzBuildQuilt(f *testing.F) {
	f.Add(uint8(4), "a.txt", "b", "content-type", "text/plain", []byte("hello"))
	f.Add(uint8(7), "日本", "😀", "", "", []byte{})
	f.Add(uint8(10), "same", "same", "k", "v", []byte("x"))
	f.Add(uint8(4), "a ", "\x00", "\xff", "v", []byte("x"))
	f.Fuzz(func(t *testing.T, n uint8, id1, id2, tagK, tagV string, data []byte) {
		c, err := NewConfig(4 + int(n)%20)
		if err != nil {
			t.Fatal(err)
		}
		files := []QuiltFile{
			{Identifier: id1, Tags: map[string]string{tagK: tagV}, Data: data},
			{Identifier: id2, Data: data[:len(data)/2]},
		}
		q, err := c.BuildQuilt(files)
		if err != nil {
			checkQuiltErr(t, err, ErrInvalidQuiltIdentifier, ErrDuplicateQuiltIdentifier, ErrInvalidQuiltTags, ErrQuiltTooLarge, ErrTooManyPatches)
			return
		}
		if id1 >= id2 {
			files[0], files[1] = files[1], files[0]
		}
		back, err := c.ParseQuilt(q.Blob)
		if err != nil {
			t.Fatalf("a built quilt does not parse: %v", err)
		}
		got, err := back.Files()
		if err != nil {
			t.Fatalf("a built quilt does not read: %v", err)
		}
		if !slices.EqualFunc(got, files, func(a, b QuiltFile) bool {
			return a.Identifier == b.Identifier && bytes.Equal(a.Data, b.Data) && (maps.Equal(a.Tags, b.Tags) || len(a.Tags)+len(b.Tags) == 0)
		}) {
			t.Fatal("files read back differ")
		}
	})
}

func FuzzParseQuiltPatchID(f *testing.F) {
	f.Add(QuiltPatchID{Patch: QuiltPatchInternalID{Start: 1, End: 208}}.String())
	f.Add("6XUOAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAQDQAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseQuiltPatchID(s)
		if err != nil {
			checkQuiltErr(t, err, ErrInvalidQuiltPatchID)
			return
		}
		if id.String() != s {
			t.Fatalf("%q parses but formats as %q", s, id.String())
		}
		if _, err := ParseQuiltPatchInternalID(id.Patch.Bytes()); err != nil {
			t.Fatal(err)
		}
	})
}
