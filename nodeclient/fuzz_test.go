package nodeclient

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/haulout/haulout/codec"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// FuzzBatchReader feeds the batch-route body parser arbitrary bytes: it
// must never panic or read past its limits, and whatever it accepts must
// encode back to exactly the bytes it read.
func FuzzBatchReader(f *testing.F) {
	for _, s := range batchSeeds() {
		f.Add(s)
	}
	limits := BatchLimits{MaxSlivers: 64, MaxSliverBytes: 1 << 16}
	f.Fuzz(func(t *testing.T, body []byte) {
		br := NewBatchReader(bytes.NewReader(body), limits)
		var got []BatchSliver
		for {
			s, err := br.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBatchLimit) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(s.Sliver.Data) > limits.MaxSliverBytes || s.Sliver.SymbolSize == 0 || len(s.Sliver.Data)%int(s.Sliver.SymbolSize) != 0 {
				t.Fatalf("accepted a sliver beyond the rules: %d bytes, symbol size %d", len(s.Sliver.Data), s.Sliver.SymbolSize)
			}
			if !bytes.Equal(br.LastBCS(), s.Sliver.MarshalBCS()) {
				t.Fatal("LastBCS differs from the sliver's BCS")
			}
			got = append(got, s)
		}
		if len(got) > limits.MaxSlivers {
			t.Fatalf("%d slivers accepted, limit %d", len(got), limits.MaxSlivers)
		}
		if re := AppendBatch(nil, got); !bytes.Equal(re, body) {
			t.Fatalf("accepted body does not re-encode to itself:\n in %x\nout %x", body, re)
		}
	})
}

// FuzzRecoverySymbols does the same for the BCS of recovery symbols.
func FuzzRecoverySymbols(f *testing.F) {
	f.Add(MarshalRecoverySymbols([]codec.RecoverySymbol{{Target: codec.Secondary, TargetIndex: 2, Source: 1, Data: []byte{1, 2}, Proof: codec.MerkleProof{{1}, {}}}}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		syms, err := UnmarshalRecoverySymbols(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// The encoding is canonical, but for a Digest node of 32 zero bytes,
		// which stands for the same hash as Empty and is written as Empty.
		re := MarshalRecoverySymbols(syms)
		if bytes.Equal(re, b) {
			return
		}
		again, err := UnmarshalRecoverySymbols(re)
		if err != nil || !reflect.DeepEqual(again, syms) || len(re) >= len(b) {
			t.Fatalf("accepted bytes do not re-encode to the same symbols:\n in %x\nout %x", b, re)
		}
	})
}

// batchSeeds are the seed bodies: well-formed batches and near misses.
func batchSeeds() [][]byte {
	ok := AppendBatch(nil, []BatchSliver{
		{Pair: 1, Sliver: &codec.Sliver{Axis: codec.Primary, Index: 1, SymbolSize: 2, Data: []byte{1, 2, 3, 4}}},
		{Pair: 1, Sliver: &codec.Sliver{Axis: codec.Secondary, Index: 8, SymbolSize: 2, Data: []byte{5, 6}}},
	})
	big := AppendBatch(nil, []BatchSliver{{Pair: 9, Sliver: &codec.Sliver{Axis: codec.Primary, Index: 9, SymbolSize: 200, Data: make([]byte, 400)}}})
	return [][]byte{
		ok,
		big,
		{0},
		ok[:len(ok)-3],
		append(bytes.Clone(ok), 7),
		{1, 0, 0, 2, 0, 0, 0, 0, 0},
		{0x81, 0x80, 0x00},
	}
}

// TestWriteSeedCorpus writes batchSeeds to testdata/fuzz/FuzzBatchReader
// (run with -update-seeds), the corpus go test runs FuzzBatchReader on.
func TestWriteSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzBatchReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range batchSeeds() {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
