package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// refOutput is what the Node harness (testdata/walrus-reference) writes for
// one encoding by Walrus's own codec, and what the golden vectors hold.
type refOutput struct {
	Name            string   `json:"name"`
	NShards         int      `json:"nShards"`
	Size            int      `json:"size"`
	Seed            uint32   `json:"seed"`
	InputASCII      *string  `json:"inputAscii"`
	InputSHA256     string   `json:"inputSha256"`
	Error           string   `json:"error"`
	BlobID          string   `json:"blobId"`
	UnencodedLength uint64   `json:"unencodedLength"`
	SymbolSize      int      `json:"symbolSize"`
	RootHash        string   `json:"rootHash"`
	MetadataBCS     []byte   `json:"metadataBcs"`
	HashesSHA256    string   `json:"hashesSha256"`
	PrimaryHashes   []string `json:"primaryHashes"`
	SecondaryHashes []string `json:"secondaryHashes"`
	PrimaryHead     []string `json:"primaryHashesHead"`
	PrimaryTail     []string `json:"primaryHashesTail"`
	SecondaryHead   []string `json:"secondaryHashesHead"`
	SecondaryTail   []string `json:"secondaryHashesTail"`
	Slivers         []struct {
		Pair      int    `json:"pair"`
		Primary   []byte `json:"primary"`
		Secondary []byte `json:"secondary"`
	} `json:"slivers"`
}

func loadGoldens(t *testing.T) []refOutput {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []refOutput `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 50 {
		t.Fatalf("only %d golden cases", len(f.Cases))
	}
	return f.Cases
}

func hexHash(h MerkleNode) string {
	if h.Empty {
		return ""
	}
	return hex.EncodeToString(h.Digest[:])
}

// compareWithReference checks everything the reference recorded against
// haulout's encoding of the same input.
func compareWithReference(t *testing.T, ref *refOutput, input []byte) {
	t.Helper()
	c, err := NewConfig(ref.NShards)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Error != "" {
		if _, err := c.Encode(input); !errors.Is(err, ErrBlobTooLarge) {
			t.Fatalf("%s: reference refused (%s); haulout: %v", ref.Name, ref.Error, err)
		}
		return
	}
	keep := len(ref.Slivers) > 0 || ref.NShards <= 100
	var md *Metadata
	var enc *Encoded
	if keep {
		enc, err = c.Encode(input)
		if enc != nil {
			md = enc.Metadata
		}
	} else {
		md, err = c.ComputeMetadata(input)
	}
	if err != nil {
		t.Fatalf("%s: %v", ref.Name, err)
	}
	if md.ID.String() != ref.BlobID {
		t.Fatalf("%s: blob ID %s, reference %s", ref.Name, md.ID, ref.BlobID)
	}
	if s, _ := c.SymbolSize(uint64(len(input))); s != ref.SymbolSize {
		t.Errorf("%s: symbol size %d, reference %d", ref.Name, s, ref.SymbolSize)
	}
	if root := md.RootHash(); hex.EncodeToString(root[:]) != ref.RootHash {
		t.Errorf("%s: root hash differs", ref.Name)
	}
	if ref.MetadataBCS != nil && !bytes.Equal(md.BlobMetadata.MarshalBCS(), ref.MetadataBCS) {
		t.Errorf("%s: metadata BCS differs", ref.Name)
	}
	n := ref.NShards
	prim, sec := make([]string, n), make([]string, n)
	all := sha256.New()
	for i, p := range md.Hashes {
		prim[i], sec[i] = hexHash(p.Primary), hexHash(p.Secondary)
	}
	for _, h := range md.Hashes {
		all.Write(h.Primary.Digest[:])
	}
	for _, h := range md.Hashes {
		all.Write(h.Secondary.Digest[:])
	}
	if ref.HashesSHA256 != "" && hex.EncodeToString(all.Sum(nil)) != ref.HashesSHA256 {
		t.Errorf("%s: sliver hashes differ (sha256 over all)", ref.Name)
	}
	check := func(what string, got, want []string) {
		if want != nil && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %s differ", ref.Name, what)
		}
	}
	check("primary hashes", prim, ref.PrimaryHashes)
	check("secondary hashes", sec, ref.SecondaryHashes)
	if len(ref.PrimaryHead) > 0 {
		h, tl := len(ref.PrimaryHead), len(ref.PrimaryTail)
		check("primary head", prim[:h], ref.PrimaryHead)
		check("primary tail", prim[n-tl:], ref.PrimaryTail)
		check("secondary head", sec[:h], ref.SecondaryHead)
		check("secondary tail", sec[n-tl:], ref.SecondaryTail)
	}
	for _, sl := range ref.Slivers {
		p, s := enc.Pair(sl.Pair)
		if !bytes.Equal(p.MarshalBCS(), sl.Primary) {
			t.Errorf("%s: primary sliver of pair %d differs", ref.Name, sl.Pair)
		}
		if !bytes.Equal(s.MarshalBCS(), sl.Secondary) {
			t.Errorf("%s: secondary sliver of pair %d differs", ref.Name, sl.Pair)
		}
	}
}

func goldenCaseInput(t *testing.T, ref *refOutput) []byte {
	var in []byte
	if ref.InputASCII != nil {
		in = []byte(*ref.InputASCII)
	} else {
		in = goldenInput(ref.Size, ref.Seed)
	}
	if sum := sha256.Sum256(in); hex.EncodeToString(sum[:]) != ref.InputSHA256 {
		t.Fatalf("%s: input generator disagrees with the harness", ref.Name)
	}
	return in
}

// TestGoldenVectors compares with Walrus's encoder through vectors made by
// @mysten/walrus-wasm (testdata/walrus-reference/gen-goldens.mjs).
func TestGoldenVectors(t *testing.T) {
	for _, ref := range loadGoldens(t) {
		if testing.Short() && ref.NShards == 1000 && ref.Size > 1<<20 {
			continue
		}
		t.Run(ref.Name, func(t *testing.T) {
			t.Parallel()
			compareWithReference(t, &ref, goldenCaseInput(t, &ref))
		})
	}
}

// TestGoldenDecode decodes the golden blobs from the reference's own slivers.
func TestGoldenDecode(t *testing.T) {
	for _, ref := range loadGoldens(t) {
		if len(ref.Slivers) == 0 || ref.Error != "" {
			continue
		}
		c, _ := NewConfig(ref.NShards)
		md, err := UnmarshalMetadataBCS(ref.MetadataBCS)
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range ref.Slivers {
			p, err := UnmarshalSliverBCS(sl.Primary, Primary)
			if err != nil {
				t.Fatal(err)
			}
			s, err := UnmarshalSliverBCS(sl.Secondary, Secondary)
			if err != nil {
				t.Fatal(err)
			}
			for i, err := range c.VerifySlivers(md, []*Sliver{p, s}) {
				if err != nil {
					t.Fatalf("%s pair %d sliver %d: %v", ref.Name, sl.Pair, i, err)
				}
			}
		}
	}
}

// TestAgainstWalrusReference runs Walrus's encoder on fresh random inputs
// whenever node is present (always in CI, where its absence is a failure).
func TestAgainstWalrusReference(t *testing.T) {
	dir := filepath.Join("testdata", "walrus-reference")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@mysten", "walrus-wasm"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must run the Walrus reference: %v (run npm ci in %s)", err, dir)
		}
		t.Skipf("Walrus reference not available (%v): run `npm ci` in %s", err, dir)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	cases := []struct{ n, maxSize int }{{4, 5000}, {7, 100000}, {10, 300000}, {13, 70000}, {100, 2 << 20}, {334, 400000}, {1000, 3 << 20}}
	for _, tc := range cases {
		size := rng.IntN(tc.maxSize + 1)
		input := make([]byte, size)
		for i := range input {
			input[i] = byte(rng.Uint32())
		}
		file := filepath.Join(t.TempDir(), "input.bin")
		if err := os.WriteFile(file, input, 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"ref.mjs", "encode", "--n-shards", fmt.Sprint(tc.n), "--file", file}
		if tc.n <= 100 {
			args = append(args, "--slivers", fmt.Sprintf("0,%d,%d", rng.IntN(tc.n), tc.n-1))
		}
		cmd := exec.Command(node, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("n=%d size=%d: reference failed: %v", tc.n, size, err)
		}
		var ref refOutput
		if err := json.Unmarshal(out, &ref); err != nil {
			t.Fatalf("reference output: %v", err)
		}
		ref.Name = fmt.Sprintf("fresh n=%d size=%d", tc.n, size)
		ref.NShards = tc.n
		compareWithReference(t, &ref, input)
	}
}
