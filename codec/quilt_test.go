package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// quiltItem is one file of a quilt case, as the harness in
// testdata/quilt-reference reads it: literal data or size bytes of
// goldenInput(size, seed).
type quiltItem struct {
	Identifier       string            `json:"identifier,omitempty"`
	IdentifierRepeat []json.RawMessage `json:"identifierRepeat,omitempty"` // [text, count]
	Tags             map[string]string `json:"tags,omitempty"`
	Data             *string           `json:"data,omitempty"` // standard base64
	Size             int               `json:"size,omitempty"`
	Seed             uint32            `json:"seed,omitempty"`
}

func (it *quiltItem) file(t testing.TB) QuiltFile {
	t.Helper()
	f := QuiltFile{Identifier: it.Identifier, Tags: it.Tags}
	if it.IdentifierRepeat != nil {
		var s string
		var n int
		if len(it.IdentifierRepeat) != 2 || json.Unmarshal(it.IdentifierRepeat[0], &s) != nil || json.Unmarshal(it.IdentifierRepeat[1], &n) != nil {
			t.Fatalf("bad identifierRepeat %s", it.IdentifierRepeat)
		}
		f.Identifier = strings.Repeat(s, n)
	}
	if it.Data != nil {
		b, err := base64.StdEncoding.DecodeString(*it.Data)
		if err != nil {
			t.Fatal(err)
		}
		f.Data = b
	} else {
		f.Data = goldenInput(it.Size, it.Seed)
	}
	return f
}

// quiltRef is what the harness prints for one quilt, and what a golden case holds.
type quiltRef struct {
	Name          string      `json:"name"`
	NShards       int         `json:"nShards"`
	Items         []quiltItem `json:"items"`
	Expect        string      `json:"expect"`        // an error both must give
	WalrusRefuses string      `json:"walrusRefuses"` // the SDK lays it out; Walrus's Rust code (and haulout) refuse
	UTF16Order    bool        `json:"utf16Order"`    // the SDK's identifier order differs from Walrus's Rust one
	Error         string      `json:"error"`
	QuiltLength   int         `json:"quiltLength"`
	QuiltSHA256   string      `json:"quiltSha256"`
	Quilt         []byte      `json:"quilt"`
	BlobID        string      `json:"blobId"`
	Patches       []struct {
		Identifier       *string           `json:"identifier"`
		IdentifierSHA256 string            `json:"identifierSha256"`
		Tags             map[string]string `json:"tags"`
		StartIndex       int               `json:"startIndex"`
		EndIndex         int               `json:"endIndex"`
		PatchID          string            `json:"patchId"`
	} `json:"patches"`
}

// utf16Compare orders strings as JavaScript's < does: by UTF-16 code units.
func utf16Compare(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

var quiltExpectErrors = map[string]error{
	"too-many-patches": ErrTooManyPatches,
	"duplicate":        ErrDuplicateQuiltIdentifier,
	"too-large":        ErrQuiltTooLarge,
}

// compareQuiltWithReference builds the quilt of ref's items and checks it
// against the reference byte for byte, then reads it back every way.
func compareQuiltWithReference(t *testing.T, ref *quiltRef) {
	t.Helper()
	c := mustConfig(t, ref.NShards)
	files := make([]QuiltFile, len(ref.Items))
	for i := range ref.Items {
		files[i] = ref.Items[i].file(t)
	}
	q, err := c.BuildQuilt(files)
	switch {
	case ref.Expect != "":
		if want := quiltExpectErrors[ref.Expect]; !errors.Is(err, want) {
			t.Fatalf("%s: reference refused (%s); haulout: %v, want %v", ref.Name, ref.Error, err, want)
		}
		return
	case ref.Error != "":
		t.Fatalf("%s: reference failed: %s", ref.Name, ref.Error)
	case ref.WalrusRefuses == "identifier":
		if !errors.Is(err, ErrInvalidQuiltIdentifier) {
			t.Fatalf("%s: haulout built a quilt Walrus refuses: %v", ref.Name, err)
		}
		return
	case err != nil:
		t.Fatalf("%s: %v", ref.Name, err)
	}
	if ref.UTF16Order {
		// Walrus's order (bytes) differs from the SDK's; with the SDK's
		// order the layout must be the same.
		if sum := sha256.Sum256(q.Blob); hex.EncodeToString(sum[:]) == ref.QuiltSHA256 {
			t.Fatalf("%s: expected the byte order to differ from the SDK's UTF-16 order", ref.Name)
		}
		if q, err = c.buildQuilt(files, utf16Compare); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.Blob) != ref.QuiltLength {
		t.Fatalf("%s: quilt of %d bytes, reference %d", ref.Name, len(q.Blob), ref.QuiltLength)
	}
	if ref.Quilt != nil && !bytes.Equal(q.Blob, ref.Quilt) {
		at := 0
		for at < len(q.Blob) && q.Blob[at] == ref.Quilt[at] {
			at++
		}
		t.Fatalf("%s: quilt bytes differ from byte %d (symbol size %d)", ref.Name, at, q.SymbolSize)
	}
	if sum := sha256.Sum256(q.Blob); hex.EncodeToString(sum[:]) != ref.QuiltSHA256 {
		t.Fatalf("%s: quilt SHA-256 differs (symbol size %d)", ref.Name, q.SymbolSize)
	}
	md, err := c.ComputeMetadata(q.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if md.ID.String() != ref.BlobID {
		t.Fatalf("%s: quilt blob ID %s, reference %s", ref.Name, md.ID, ref.BlobID)
	}
	if len(q.Index.Patches) != len(ref.Patches) {
		t.Fatalf("%s: %d patches, reference %d", ref.Name, len(q.Index.Patches), len(ref.Patches))
	}
	for i, rp := range ref.Patches {
		p := &q.Index.Patches[i]
		id := p.Identifier
		if rp.Identifier == nil {
			sum := sha256.Sum256([]byte(id))
			id = hex.EncodeToString(sum[:])
		}
		want := rp.IdentifierSHA256
		if rp.Identifier != nil {
			want = *rp.Identifier
		}
		switch {
		case id != want:
			t.Errorf("%s: patch %d is %q, reference %q", ref.Name, i, truncate(id), truncate(want))
		case int(p.Start) != rp.StartIndex || int(p.End) != rp.EndIndex:
			t.Errorf("%s: patch %d at [%d, %d), reference [%d, %d)", ref.Name, i, p.Start, p.End, rp.StartIndex, rp.EndIndex)
		case !maps.Equal(p.Tags, rp.Tags):
			t.Errorf("%s: patch %d tags %v, reference %v", ref.Name, i, p.Tags, rp.Tags)
		case p.ID(md.ID).String() != rp.PatchID:
			t.Errorf("%s: patch %d ID %s, reference %s", ref.Name, i, p.ID(md.ID), rp.PatchID)
		}
		pid, err := ParseQuiltPatchID(rp.PatchID)
		if err != nil || pid != p.ID(md.ID) {
			t.Errorf("%s: reference patch ID %s parses as %+v, %v", ref.Name, rp.PatchID, pid, err)
		}
	}
	checkQuiltReads(t, c, q, files)
}

// checkQuiltReads parses the quilt's bytes afresh and reads every file by
// identifier and by patch ID, from the whole blob and (for small n) from
// the verified columns of its encoding alone.
func checkQuiltReads(t *testing.T, c Config, built *Quilt, files []QuiltFile) {
	t.Helper()
	q, err := c.ParseQuilt(built.Blob)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if q.SymbolSize != built.SymbolSize || !indexEqual(&q.Index, &built.Index) {
		t.Fatalf("parsed index differs from the built one:\n%+v\n%+v", q.Index, built.Index)
	}
	all, err := q.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(files) {
		t.Fatalf("%d files read, %d written", len(all), len(files))
	}
	for i := range files {
		f := &files[i]
		got, err := q.File(f.Identifier)
		if err != nil {
			t.Fatalf("file %q: %v", truncate(f.Identifier), err)
		}
		checkFile(t, got, f)
		p, _ := q.Index.Lookup(f.Identifier)
		got, err = q.FileAt(p.InternalID())
		if err != nil {
			t.Fatalf("file %q by ID: %v", truncate(f.Identifier), err)
		}
		checkFile(t, got, f)
	}
	if c.nShards > 100 {
		return
	}
	e := mustEncode(t, c, built.Blob)
	if e.SymbolSize != built.SymbolSize {
		t.Fatalf("blob symbol size %d, quilt %d", e.SymbolSize, built.SymbolSize)
	}
	md := &e.Metadata.BlobMetadata
	for i := range files {
		f := &files[i]
		p, _ := q.Index.Lookup(f.Identifier)
		// By patch ID: the patch's columns only.
		cols := columnsOf(t, c, e, md, int(p.Start), int(p.End))
		got, err := cols.FileAt(p.InternalID())
		if err != nil {
			t.Fatalf("file %q from columns [%d, %d): %v", truncate(f.Identifier), p.Start, p.End, err)
		}
		checkFile(t, got, f)
		// By identifier: column 0, then the index's columns, then the patch's.
		cols = columnsOf(t, c, e, md, 0, 1)
		n, err := cols.IndexColumns()
		if err != nil || n != q.Index.Columns {
			t.Fatalf("index columns from column 0: %d, %v; want %d", n, err, q.Index.Columns)
		}
		if _, err := cols.File(f.Identifier); n > 1 && !errors.Is(err, ErrMissingColumns) {
			t.Fatalf("index read from column 0 of %d: %v", n, err)
		}
		addColumns(t, c, e, md, cols, 1, n)
		if _, err := cols.File(f.Identifier); !errors.Is(err, ErrMissingColumns) {
			t.Fatalf("patch read without its columns: %v", err)
		}
		addColumns(t, c, e, md, cols, int(p.Start), int(p.End))
		if got, err = cols.File(f.Identifier); err != nil {
			t.Fatal(err)
		}
		checkFile(t, got, f)
	}
}

func columnsOf(t *testing.T, c Config, e *Encoded, md *BlobMetadata, start, end int) *QuiltColumns {
	t.Helper()
	cols, err := c.NewQuiltColumns(md.UnencodedLength)
	if err != nil {
		t.Fatal(err)
	}
	addColumns(t, c, e, md, cols, start, end)
	return cols
}

// addColumns verifies secondary slivers [start, end) as an aggregator does
// and adds them.
func addColumns(t *testing.T, c Config, e *Encoded, md *BlobMetadata, cols *QuiltColumns, start, end int) {
	t.Helper()
	var sl []*Sliver
	for i := start; i < end; i++ {
		cp := e.Secondary[i]
		sl = append(sl, &cp)
	}
	for i, err := range c.VerifySlivers(md, sl) {
		if err != nil {
			t.Fatalf("column %d: %v", start+i, err)
		}
	}
	if err := cols.Add(sl...); err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, got *QuiltFile, want *QuiltFile) {
	t.Helper()
	if got.Identifier != want.Identifier || !bytes.Equal(got.Data, want.Data) || !maps.Equal(got.Tags, want.Tags) && len(got.Tags)+len(want.Tags) > 0 {
		t.Fatalf("read %q (%d bytes, tags %v), wrote %q (%d bytes, tags %v)",
			truncate(got.Identifier), len(got.Data), got.Tags, truncate(want.Identifier), len(want.Data), want.Tags)
	}
	if got.Tags == nil {
		t.Fatal("a file read back has nil tags")
	}
}

func indexEqual(a, b *QuiltIndex) bool {
	return a.Columns == b.Columns && slices.EqualFunc(a.Patches, b.Patches, func(x, y QuiltPatch) bool {
		return x.Identifier == y.Identifier && x.Start == y.Start && x.End == y.End && maps.Equal(x.Tags, y.Tags)
	})
}

func loadQuiltGoldens(t *testing.T) []quiltRef {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "quilt", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []quiltRef `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 20 {
		t.Fatalf("only %d golden quilts", len(f.Cases))
	}
	return f.Cases
}

// TestQuiltGoldens compares with quilts that Walrus's TypeScript SDK laid
// out (testdata/quilt-reference/gen-goldens.mjs).
func TestQuiltGoldens(t *testing.T) {
	for _, ref := range loadQuiltGoldens(t) {
		t.Run(ref.Name, func(t *testing.T) {
			t.Parallel()
			compareQuiltWithReference(t, &ref)
		})
	}
}

// TestQuiltAgainstReference runs the SDK on fresh random quilts whenever
// node and the harness's node_modules are present (always in CI, where
// their absence is a failure).
func TestQuiltAgainstReference(t *testing.T) {
	dir := filepath.Join("testdata", "quilt-reference")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@mysten", "walrus", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must run the quilt reference: %v (run `make reference`, or npm ci in %s)", err, dir)
		}
		t.Skipf("quilt reference not available (%v): run `npm ci` in %s", err, dir)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	for _, n := range []int{4, 7, 10, 13, 40, 100, 1000} {
		spec := randomQuiltSpec(rng, n)
		in, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "spec.json")
		if err := os.WriteFile(file, in, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, "quilt.mjs", "--file", file)
		cmd.Dir = dir
		out, err := cmd.Output()
		var ref quiltRef
		if jerr := json.Unmarshal(out, &ref); jerr != nil {
			t.Fatalf("n=%d: reference output (%v): %v", n, err, jerr)
		}
		ref.Name = fmt.Sprintf("fresh n=%d, %d files", n, len(spec.Items))
		ref.NShards, ref.Items = n, spec.Items
		if ref.Error != "" {
			t.Fatalf("%s: the SDK refused: %s", ref.Name, ref.Error)
		}
		// The SDK orders identifiers by UTF-16 code units, Walrus's Rust
		// code by bytes: where they differ, compare the SDK's order.
		ids := make([]string, len(spec.Items))
		for i, it := range spec.Items {
			ids[i] = it.Identifier
		}
		ref.UTF16Order = !slices.Equal(slices.SortedFunc(slices.Values(ids), strings.Compare), slices.SortedFunc(slices.Values(ids), utf16Compare))
		if ref.UTF16Order {
			t.Logf("%s: the SDK orders these identifiers by UTF-16, Walrus's Rust code by bytes", ref.Name)
		}
		compareQuiltWithReference(t, &ref)
	}
}

type quiltSpec struct {
	NShards int         `json:"nShards"`
	Items   []quiltItem `json:"items"`
}

// Identifier pieces: ASCII, Latin, CJK, astral (emoji) and U+E000..U+FFFF
// (private use, fullwidth), so that the UTF-8 and UTF-16 orders differ now
// and then.
var quiltIDPieces = []string{"a", "B", "z", "0", "-", ".", "/", "_", " ", "é", "Ü", "日本", "ファイル", "🐋", "😀", "\uFF21", "\uE000", "\uFFFD"}

func randomQuiltSpec(rng *rand.Rand, n int) quiltSpec {
	c, _ := NewConfig(n)
	count := rng.IntN(min(c.MaxQuiltPatches(), 40) + 1)
	spec := quiltSpec{NShards: n, Items: []quiltItem{}}
	seen := map[string]bool{}
	for len(spec.Items) < count {
		var id strings.Builder
		for j := rng.IntN(6) + 1; j > 0; j-- {
			id.WriteString(quiltIDPieces[rng.IntN(len(quiltIDPieces))])
		}
		s := strings.TrimRight(id.String(), " ")
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		it := quiltItem{Identifier: s, Seed: rng.Uint32()}
		switch rng.IntN(4) {
		case 0:
			it.Size = rng.IntN(16)
		case 1, 2:
			it.Size = rng.IntN(5000)
		default:
			// At most half a column of the largest symbol size: the
			// quilt always fits, even at 4 shards.
			it.Size = rng.IntN(min(200000, c.k1*MaxSymbolSize/2))
		}
		if rng.IntN(3) == 0 {
			it.Tags = map[string]string{}
			for j := rng.IntN(4); j >= 0; j-- {
				it.Tags[strings.Repeat(quiltIDPieces[rng.IntN(len(quiltIDPieces))], rng.IntN(140)+1)] = quiltIDPieces[rng.IntN(len(quiltIDPieces))]
			}
		}
		spec.Items = append(spec.Items, it)
	}
	return spec
}

// TestQuiltRoundTrip builds random quilts and reads every file back.
func TestQuiltRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{4, 5, 7, 10, 13, 31, 100} {
		for range 4 {
			spec := randomQuiltSpec(rng, n)
			c := mustConfig(t, n)
			files := make([]QuiltFile, len(spec.Items))
			for i := range spec.Items {
				files[i] = spec.Items[i].file(t)
			}
			q, err := c.BuildQuilt(files)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			if !slices.IsSortedFunc(q.Index.Patches, func(a, b QuiltPatch) int { return strings.Compare(a.Identifier, b.Identifier) }) {
				t.Fatal("patches not sorted by identifier")
			}
			if s, _ := c.SymbolSize(uint64(len(q.Blob))); s != q.SymbolSize || len(q.Blob) != c.k1*c.k2*s {
				t.Fatalf("quilt of %d bytes with symbol size %d is not a blob of that symbol size", len(q.Blob), q.SymbolSize)
			}
			checkQuiltReads(t, c, q, files)
		}
	}
}

func TestQuiltLimits(t *testing.T) {
	c10 := mustConfig(t, 10)
	one := func(id string) []QuiltFile { return []QuiltFile{{Identifier: id, Data: []byte("x")}} }
	many := func(n int) []QuiltFile {
		fs := make([]QuiltFile, n)
		for i := range fs {
			fs[i] = QuiltFile{Identifier: fmt.Sprint(i)}
		}
		return fs
	}
	for _, tc := range []struct {
		name  string
		n     int
		files []QuiltFile
		want  error
	}{
		{"empty identifier", 10, one(""), ErrInvalidQuiltIdentifier},
		{"longest identifier", 10, one(strings.Repeat("x", MaxQuiltIdentifierLength)), nil},
		{"identifier one byte too long", 10, one(strings.Repeat("x", MaxQuiltIdentifierLength+1)), ErrInvalidQuiltIdentifier},
		{"identifier of 65536 bytes", 10, one(strings.Repeat("x", 65536)), ErrInvalidQuiltIdentifier},
		{"trailing space", 10, one("a "), ErrInvalidQuiltIdentifier},
		{"trailing tab", 10, one("a\t"), ErrInvalidQuiltIdentifier},
		{"trailing ideographic space", 10, one("a\u3000"), ErrInvalidQuiltIdentifier},
		{"leading and inner space", 10, one(" a b"), nil},
		{"NUL", 10, one("a\x00b"), ErrInvalidQuiltIdentifier},
		{"DEL", 10, one("a\x7fb"), ErrInvalidQuiltIdentifier},
		{"C1 control", 10, one("a\u0085b"), ErrInvalidQuiltIdentifier},
		{"not UTF-8", 10, one("a\xffb"), ErrInvalidQuiltIdentifier},
		{"underscore first", 10, one("_metadata"), nil},
		{"duplicate", 10, []QuiltFile{{Identifier: "a"}, {Identifier: "b"}, {Identifier: "a"}}, ErrDuplicateQuiltIdentifier},
		{"most patches", 10, many(c10.MaxQuiltPatches()), nil},
		{"too many patches", 10, many(c10.MaxQuiltPatches() + 1), ErrTooManyPatches},
		{"666 patches at 1000 shards", 1000, many(666), nil},
		{"667 patches at 1000 shards", 1000, many(667), ErrTooManyPatches},
		{"no files", 10, nil, nil},
		{"too large", 4, []QuiltFile{{Identifier: "a", Data: make([]byte, 400000)}}, ErrQuiltTooLarge},
		{"tags not UTF-8", 10, []QuiltFile{{Identifier: "a", Tags: map[string]string{"k": "\xff"}}}, ErrInvalidQuiltTags},
		{"tags key not UTF-8", 10, []QuiltFile{{Identifier: "a", Tags: map[string]string{"\xff": "v"}}}, ErrInvalidQuiltTags},
		{"tags too large", 10, []QuiltFile{{Identifier: "a", Tags: map[string]string{"k": strings.Repeat("v", 65535)}}}, ErrInvalidQuiltTags},
		{"largest tags", 10, []QuiltFile{{Identifier: "a", Tags: map[string]string{"k": strings.Repeat("v", 65535-1-2-3)}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustConfig(t, tc.n)
			q, err := c.BuildQuilt(tc.files)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, ErrQuiltTooLarge) && !errors.Is(err, ErrBlobTooLarge) {
				t.Fatalf("%v does not wrap ErrBlobTooLarge", err)
			}
			if err == nil {
				checkQuiltReads(t, c, q, tc.files)
			}
		})
	}
}

// TestQuiltSymbolSize checks the symbol size search against Walrus's own
// cases (quilt_encoding.rs, test_quilt_find_min_length), whose sizes
// already include the index's.
func TestQuiltSymbolSize(t *testing.T) {
	for _, tc := range []struct {
		sizes                 []uint64
		cols, rows, indexCols int
		want                  int
	}{
		{[]uint64{2, 1, 2, 1}, 3, 3, 1, 0},
		{[]uint64{1000, 1, 1}, 4, 7, 2, 72},
		{[]uint64{}, 3, 1, 1, 0},
		{[]uint64{1}, 3, 2, 1, 4},
		{[]uint64{115, 80, 4}, 17, 9, 3, 6},
		{[]uint64{20, 20, 20}, 3, 5, 2, 4},
		{[]uint64{5, 5, 5}, 5, 1, 1, 6},
		{[]uint64{25, 35, 45}, 200, 1, 3, 10},
		{[]uint64{10, 0, 0, 0}, 17, 9, 2, 2},
		{[]uint64{416, 253, 258, 384, 492, 303, 276, 464, 143, 251, 388, 263, 515, 433, 505, 385, 346, 69, 48, 495, 329, 450, 494, 104, 539, 245, 109, 317, 60}, 34, 16, 3, 32},
	} {
		// Walrus's cases choose rows and columns freely; a Config derives
		// them from n, so set them directly.
		c := Config{nShards: tc.cols, k1: tc.rows, k2: tc.cols}
		got, err := c.quiltSymbolSize(tc.sizes, tc.indexCols)
		if tc.want == 0 {
			if !errors.Is(err, ErrTooManyPatches) {
				t.Errorf("sizes %v in %d x %d: %d, %v; want an error", tc.sizes, tc.rows, tc.cols, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("sizes %v in %d x %d: symbol size %d (%v), want %d", tc.sizes, tc.rows, tc.cols, got, err, tc.want)
		}
	}
}

func TestQuiltPatchID(t *testing.T) {
	var id BlobID
	for i := range id {
		id[i] = byte(i * 7)
	}
	pid := QuiltPatchID{Quilt: id, Patch: QuiltPatchInternalID{Start: 1, End: 208}}
	s := pid.String()
	if len(s) != 50 {
		t.Fatalf("patch ID %q has %d characters", s, len(s))
	}
	b := pid.Bytes()
	if !bytes.Equal(b[:32], id[:]) || !bytes.Equal(b[32:], []byte{1, 1, 0, 208, 0}) {
		t.Fatalf("patch ID bytes %x", b)
	}
	back, err := ParseQuiltPatchID(s)
	if err != nil || back != pid {
		t.Fatalf("%s parses as %+v, %v", s, back, err)
	}
	var fromText QuiltPatchID
	if err := fromText.UnmarshalText([]byte(s)); err != nil || fromText != pid {
		t.Fatalf("UnmarshalText: %+v, %v", fromText, err)
	}
	withBytes := func(tail ...byte) string {
		return base64.RawURLEncoding.EncodeToString(append(id[:len(id):len(id)], tail...))
	}
	for _, bad := range []string{
		"",
		s[:49],
		s + "A",
		s[:49] + "+",                  // standard, not URL-safe, base64
		s[:48] + "==",                 // padding
		withBytes(2, 1, 0, 208, 0),    // version 2
		withBytes(1, 0, 0, 208, 0),    // column 0 holds the index
		withBytes(1, 9, 0, 9, 0),      // empty range
		withBytes(1, 10, 0, 9, 0),     // reversed range
		withBytes(1, 1, 0, 208),       // 36 bytes
		withBytes(1, 1, 0, 208, 0, 0), // 38 bytes
		id.String(),                   // a blob ID
	} {
		if _, err := ParseQuiltPatchID(bad); !errors.Is(err, ErrInvalidQuiltPatchID) {
			t.Errorf("ParseQuiltPatchID(%q): %v", bad, err)
		}
	}
	// The form a Walrus publisher reports: "…BAQDQAA" is v1, columns 1 to 208.
	if !strings.HasSuffix(QuiltPatchID{Patch: QuiltPatchInternalID{Start: 1, End: 208}}.String(), "BAQDQAA") {
		t.Error("patch ID text differs from Walrus's")
	}
}

// validQuilt is a small quilt at n=7 (k1 = 3, k2 = 5) with tags and a
// multi-column patch, for the malformed-input tests.
func validQuilt(t testing.TB) (Config, *Quilt) {
	c := mustConfig(t, 7)
	q, err := c.BuildQuilt([]QuiltFile{
		{Identifier: "a.txt", Tags: map[string]string{"k": "v", "kk": "w"}, Data: []byte("first file")},
		{Identifier: "b.bin", Data: goldenInput(300, 5)},
		{Identifier: "c", Data: []byte("c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, q
}

// column returns a copy of column col of the quilt.
func (q *Quilt) column(col int) []byte {
	out, err := q.read(col, 0, q.ColumnSize())
	if err != nil {
		panic(err)
	}
	return out
}

// setColumn overwrites column col of a quilt blob.
func (q *Quilt) setColumn(col int, b []byte) {
	w := quiltWriter{blob: q.Blob, rows: q.rows, cols: q.cols, s: q.SymbolSize}
	w.write(col, 0, b)
}

func TestQuiltMalformed(t *testing.T) {
	c, valid := validQuilt(t)
	pb := &valid.Index.Patches[1] // b.bin: several columns
	if pb.End-pb.Start < 2 {
		t.Fatalf("b.bin spans columns [%d, %d): want several", pb.Start, pb.End)
	}
	index := func(edit func(x *QuiltIndex)) func(q *Quilt) {
		return func(q *Quilt) {
			x := q.Index
			x.Patches = slices.Clone(x.Patches)
			edit(&x)
			col := x.appendBCS(binary.LittleEndian.AppendUint32([]byte{1}, 0))
			binary.LittleEndian.PutUint32(col[1:], uint32(len(col)-5))
			q.setColumn(0, append(col, make([]byte, q.ColumnSize()-len(col))...))
		}
	}
	// header edits the start of patch b.bin's first column.
	header := func(edit func(col []byte)) func(q *Quilt) {
		return func(q *Quilt) {
			col := q.column(int(pb.Start))
			edit(col)
			q.setColumn(int(pb.Start), col)
		}
	}
	for _, tc := range []struct {
		name      string
		edit      func(q *Quilt)
		atParse   bool // ParseQuilt fails, rather than reading b.bin
		indexOnly bool // the patch itself is intact
	}{
		{"version 2", func(q *Quilt) { q.Blob[0] = 2 }, true, false},
		{"index longer than its columns", func(q *Quilt) { binary.LittleEndian.PutUint32(q.Blob[1:], 0xffffffff) }, true, false},
		{"index runs past what is written", func(q *Quilt) {
			col := q.column(0)
			binary.LittleEndian.PutUint32(col[1:], binary.LittleEndian.Uint32(col[1:])+1)
			q.setColumn(0, col)
		}, true, false},
		{"index shorter than written", func(q *Quilt) {
			col := q.column(0)
			binary.LittleEndian.PutUint32(col[1:], binary.LittleEndian.Uint32(col[1:])-1)
			q.setColumn(0, col)
		}, true, false},
		{"patch ends past the columns", index(func(x *QuiltIndex) { x.Patches[2].End = 6 }), true, false},
		{"patch ends before it starts", index(func(x *QuiltIndex) { x.Patches[1].End = x.Patches[0].End }), true, false},
		{"tags out of order", func(q *Quilt) {
			col := q.column(0)
			i := bytes.Index(col, []byte{1, 'k', 1, 'v', 2, 'k', 'k'})
			copy(col[i:], []byte{2, 'k', 'k', 1, 'w', 1, 'k', 1, 'v'})
			q.setColumn(0, col)
		}, true, false},
		{"identifier not UTF-8", func(q *Quilt) {
			col := q.column(0)
			col[bytes.Index(col, []byte("b.bin"))] = 0xff
			q.setColumn(0, col)
		}, true, false},
		{"index names another identifier", func(q *Quilt) {
			col := q.column(0)
			col[bytes.Index(col, []byte("b.bin"))] = 'x'
			q.setColumn(0, col)
		}, false, true},
		{"header version 0", header(func(col []byte) { col[0] = 0 }), false, false},
		{"header length one column short", header(func(col []byte) {
			binary.LittleEndian.PutUint32(col[1:], binary.LittleEndian.Uint32(col[1:])-uint32(len(col)))
		}), false, false},
		{"header length one column long", header(func(col []byte) {
			binary.LittleEndian.PutUint32(col[1:], binary.LittleEndian.Uint32(col[1:])+uint32(len(col)))
		}), false, false},
		{"header length too short for the identifier", header(func(col []byte) { binary.LittleEndian.PutUint32(col[1:], 3) }), false, false},
		{"identifier size past the identifier", header(func(col []byte) { col[6]++ }), false, false},
		{"identifier size short of the identifier", header(func(col []byte) { col[6]-- }), false, false},
		{"identifier with trailing space", header(func(col []byte) { col[8+5] = ' ' }), false, false},
		{"tags flag without tags", header(func(col []byte) { col[5] = 1 }), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &Quilt{Blob: bytes.Clone(valid.Blob), SymbolSize: valid.SymbolSize, rows: valid.rows, cols: valid.cols, Index: valid.Index}
			tc.edit(q)
			parsed, err := c.ParseQuilt(q.Blob)
			if tc.atParse {
				if !errors.Is(err, ErrInvalidQuilt) {
					t.Fatalf("ParseQuilt: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseQuilt: %v", err)
			}
			if _, err := parsed.File("b.bin"); !errors.Is(err, ErrInvalidQuilt) && !errors.Is(err, ErrQuiltPatchNotFound) {
				t.Fatalf("File: %v", err)
			}
			if _, err := parsed.FileAt(pb.InternalID()); !errors.Is(err, ErrInvalidQuilt) && !errors.Is(err, ErrQuiltPatchNotFound) {
				t.Fatalf("FileAt: %v", err)
			}
			// The other files still read.
			if f, err := parsed.File("c"); err != nil || string(f.Data) != "c" {
				t.Fatalf("file c: %v", err)
			}
			// From columns alone (no index), a bad header is "not found".
			cols, _ := c.NewQuiltColumns(uint64(len(q.Blob)))
			for i := pb.Start; i < pb.End; i++ {
				if err := cols.Add(&Sliver{Axis: Secondary, Index: i, SymbolSize: uint16(q.SymbolSize), Data: q.column(int(i))}); err != nil {
					t.Fatal(err)
				}
			}
			f, err := cols.FileAt(pb.InternalID())
			if tc.indexOnly {
				if err != nil || f.Identifier != "b.bin" {
					t.Fatalf("FileAt from columns: %v", err)
				}
			} else if !errors.Is(err, ErrQuiltPatchNotFound) {
				t.Fatalf("FileAt from columns: %v", err)
			}
		})
	}
	for _, size := range []int{0, 1, 7*3*2 - 1, 3 * 5 * 3, 3 * 5 * 65536} {
		if _, err := c.ParseQuilt(make([]byte, size)); !errors.Is(err, ErrInvalidQuilt) {
			t.Errorf("ParseQuilt of %d zero bytes: %v", size, err)
		}
	}
	if _, err := c.NewQuiltColumns(100); !errors.Is(err, ErrInvalidQuilt) {
		t.Errorf("NewQuiltColumns(100): %v", err)
	}
}

func TestQuiltColumns(t *testing.T) {
	c, q := validQuilt(t)
	e := mustEncode(t, c, q.Blob)
	md := &e.Metadata.BlobMetadata
	cols, err := c.NewQuiltColumns(md.UnencodedLength)
	if err != nil {
		t.Fatal(err)
	}
	if cols.ColumnSize() != q.ColumnSize() || cols.ColumnSize() != len(e.Secondary[0].Data) {
		t.Fatalf("column size %d, quilt %d, sliver %d", cols.ColumnSize(), q.ColumnSize(), len(e.Secondary[0].Data))
	}
	p := q.Index.Patches[1]
	_, err = cols.FileAt(p.InternalID())
	var missing *MissingColumnsError
	if !errors.As(err, &missing) || missing.Start != int(p.Start) || missing.End != int(p.Start)+1 {
		t.Fatalf("FileAt with no columns: %v", err)
	}
	addColumns(t, c, e, md, cols, int(p.Start), int(p.Start)+1)
	if _, err = cols.FileAt(p.InternalID()); !errors.As(err, &missing) || !slices.Equal(missing.Missing, seq(int(p.End))[p.Start+1:]) {
		t.Fatalf("FileAt with the first column: %v", err)
	}
	if _, err := cols.Index(); !errors.Is(err, ErrMissingColumns) {
		t.Fatalf("Index without column 0: %v", err)
	}
	for _, bad := range []*Sliver{
		&e.Primary[0],
		&e.Secondary[c.k2], // a recovery column
		{Axis: Secondary, Index: 1, SymbolSize: uint16(q.SymbolSize), Data: e.Secondary[1].Data[1:]},
		{Axis: Secondary, Index: 1, SymbolSize: uint16(q.SymbolSize) + 2, Data: e.Secondary[1].Data},
	} {
		if err := cols.Add(bad); !errors.Is(err, ErrInvalidSliver) {
			t.Errorf("Add(%s sliver %d of %d bytes): %v", bad.Axis, bad.Index, len(bad.Data), err)
		}
	}
	for _, id := range []QuiltPatchInternalID{{0, 1}, {3, 3}, {4, 6}, {p.Start, p.End + 1}} {
		if _, err := cols.FileAt(id); !errors.Is(err, ErrQuiltPatchNotFound) && !errors.Is(err, ErrMissingColumns) {
			t.Errorf("FileAt(%v): %v", id, err)
		}
	}
	if _, err := q.FileAt(QuiltPatchInternalID{p.Start, p.End - 1}); !errors.Is(err, ErrQuiltPatchNotFound) {
		t.Errorf("Quilt.FileAt of a range no patch has: %v", err)
	}
	if _, err := q.File("nope"); !errors.Is(err, ErrQuiltPatchNotFound) {
		t.Errorf("File(nope): %v", err)
	}
}

// TestQuiltReadCost measures what one 10 KiB patch of a 100 MiB quilt at
// 1000 shards costs to read from its columns, against the whole quilt.
func TestQuiltReadCost(t *testing.T) {
	const KiB, MiB = 1 << 10, 1 << 20
	c := mustConfig(t, 1000)
	for _, tc := range []struct {
		name  string
		files []QuiltFile
	}{
		{"one 10 KiB patch and one of 100 MiB - 10 KiB", []QuiltFile{
			{Identifier: "small", Data: make([]byte, 10*KiB)},
			{Identifier: "large", Data: make([]byte, 100*MiB-10*KiB)},
		}},
		{"one 10 KiB patch among 665 of ~154 KiB", func() []QuiltFile {
			fs := []QuiltFile{{Identifier: "small", Data: make([]byte, 10*KiB)}}
			rest := (100*MiB - 10*KiB) / 665
			for i := range 665 {
				fs = append(fs, QuiltFile{Identifier: fmt.Sprintf("f%03d", i), Data: make([]byte, rest)})
			}
			return fs
		}()},
	} {
		q, err := c.BuildQuilt(tc.files)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := q.Index.Lookup("small")
		cost, err := c.QuiltReadCost(uint64(len(q.Blob)), q.Index.Columns, p.InternalID())
		if err != nil {
			t.Fatal(err)
		}
		if cost.Whole != uint64(len(q.Blob)) || cost.Patch != cost.ColumnSize || cost.Index != cost.ColumnSize {
			t.Fatalf("%s: %+v for a blob of %d bytes", tc.name, cost, len(q.Blob))
		}
		md := Metadata{BlobMetadata: BlobMetadata{Hashes: make([]SliverPairMetadata, c.nShards)}}
		t.Logf("%s: quilt blob %d bytes, symbol size %d, column %d bytes; by patch ID %d bytes (%.2f%% of the whole, 1/%d), by identifier %d (%.2f%%), whole %d; BCS metadata %d bytes either way",
			tc.name, len(q.Blob), q.SymbolSize, cost.ColumnSize, cost.Patch, 100*float64(cost.Patch)/float64(cost.Whole), cost.Whole/cost.Patch,
			cost.Patch+cost.Index, 100*float64(cost.Patch+cost.Index)/float64(cost.Whole), cost.Whole, len(md.MarshalBCS()))
	}
}

func ExampleConfig_BuildQuilt() {
	c, _ := NewConfig(10)
	q, _ := c.BuildQuilt([]QuiltFile{
		{Identifier: "walrus.jpg", Tags: map[string]string{"content-type": "image/jpeg"}, Data: []byte("...")},
		{Identifier: "another_walrus.jpg", Data: []byte("...")},
	})
	md, _ := c.ComputeMetadata(q.Blob) // store q.Blob as an ordinary blob: md.ID is the quilt ID
	for _, p := range q.Index.Patches {
		fmt.Println(p.Identifier, p.Start, p.End, p.ID(md.ID))
	}
	f, _ := q.File("walrus.jpg")
	fmt.Println(f.Tags["content-type"], string(f.Data))
	// Output:
	// another_walrus.jpg 3 4 foXLILs8h7gqdB82RuWj_5GXI9iylIqISOJVjqlNwdMBAwAEAA
	// walrus.jpg 4 6 foXLILs8h7gqdB82RuWj_5GXI9iylIqISOJVjqlNwdMBBAAGAA
	// image/jpeg ...
}

// BenchmarkQuilt lays out 16 MiB of files at 1000 shards against the
// baseline of copying the same bytes once, and reads one 10 KiB patch from
// its columns.
func BenchmarkQuilt(b *testing.B) {
	const KiB, MiB = 1 << 10, 1 << 20
	c := mustConfig(b, 1000)
	files := []QuiltFile{{Identifier: "small", Data: goldenInput(10*KiB, 1)}}
	for i := range 99 {
		files = append(files, QuiltFile{Identifier: fmt.Sprintf("f%02d", i), Data: goldenInput(16*MiB/100, uint32(i))})
	}
	total := 0
	for _, f := range files {
		total += len(f.Data)
	}
	b.Run("baseline-copy", func(b *testing.B) {
		b.SetBytes(int64(total))
		dst := make([]byte, total)
		for b.Loop() {
			at := 0
			for _, f := range files {
				at += copy(dst[at:], f.Data)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		b.SetBytes(int64(total))
		for b.Loop() {
			if _, err := c.BuildQuilt(files); err != nil {
				b.Fatal(err)
			}
		}
	})
	q, err := c.BuildQuilt(files)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := q.Index.Lookup("small")
	cols, err := c.NewQuiltColumns(uint64(len(q.Blob)))
	if err != nil {
		b.Fatal(err)
	}
	for i := p.Start; i < p.End; i++ {
		if err := cols.Add(&Sliver{Axis: Secondary, Index: i, SymbolSize: uint16(q.SymbolSize), Data: q.column(int(i))}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("read-10KiB-patch-from-columns", func(b *testing.B) {
		b.SetBytes(10 * KiB)
		for b.Loop() {
			if _, err := cols.FileAt(p.InternalID()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-10KiB-patch-from-blob", func(b *testing.B) {
		b.SetBytes(10 * KiB)
		for b.Loop() {
			if _, err := q.FileAt(p.InternalID()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
