package codec

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// goldenInput is the deterministic input of the golden vectors (the Node
// harness in testdata/walrus-reference makes the same bytes).
func goldenInput(size int, seed uint32) []byte {
	x := seed*2654435761 + 1
	if x == 0 {
		x = 1
	}
	out := make([]byte, size)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = byte(x)
	}
	return out
}

func mustConfig(t testing.TB, n int) Config {
	t.Helper()
	c, err := NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustEncode(t testing.TB, c Config, blob []byte) *Encoded {
	t.Helper()
	e, err := c.Encode(blob)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func slivers(e *Encoded, a Axis, idx []int) []*Sliver {
	out := make([]*Sliver, len(idx))
	for i, j := range idx {
		sl := e.Primary[j]
		if a == Secondary {
			sl = e.Secondary[j]
		}
		cp := sl
		cp.Data = bytes.Clone(sl.Data)
		out[i] = &cp
	}
	return out
}

func TestEncodeMatchesComputeMetadata(t *testing.T) {
	for _, n := range []int{4, 5, 7, 10, 13, 100} {
		c := mustConfig(t, n)
		blob := goldenInput(1000+n, uint32(n))
		e := mustEncode(t, c, blob)
		m, err := c.ComputeMetadata(blob)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != e.Metadata.ID {
			t.Fatalf("n=%d: Encode and ComputeMetadata disagree", n)
		}
		if _, err := e.Metadata.Verify(e.Metadata.ID); err != nil {
			t.Fatal(err)
		}
		// Every sliver matches the metadata; systematic rows are the blob.
		all := append(slivers(e, Primary, seq(n)), slivers(e, Secondary, seq(n))...)
		for i, err := range c.VerifySlivers(&e.Metadata.BlobMetadata, all) {
			if err != nil {
				t.Fatalf("n=%d sliver %d: %v", n, i, err)
			}
		}
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestDecodeRandomLoss decodes from random subsets, with up to the tolerated
// number of corrupt slivers mixed in, and one past the limit.
func TestDecodeRandomLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{4, 7, 10, 19, 64, 100} {
		c := mustConfig(t, n)
		for trial := 0; trial < 4; trial++ {
			size := rng.IntN(20000)
			if trial == 0 {
				size = 0
			}
			blob := goldenInput(size, rng.Uint32())
			e := mustEncode(t, c, blob)
			md := &e.Metadata.BlobMetadata
			for _, a := range []Axis{Primary, Secondary} {
				need := c.SourceSymbols(a)
				perm := rng.Perm(n)
				// need valid slivers plus up to n-need corrupt ones.
				bad := rng.IntN(n - need + 1)
				set := slivers(e, a, perm[:need+bad])
				for _, sl := range set[:bad] {
					sl.Data[rng.IntN(len(sl.Data))] ^= 1 << rng.IntN(8)
				}
				rng.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
				got, err := c.Decode(md, set, nil, ConsistencyDefault)
				if err != nil {
					t.Fatalf("n=%d size=%d %s with %d corrupt: %v", n, size, a, bad, err)
				}
				if !bytes.Equal(got, blob) {
					t.Fatalf("n=%d size=%d %s: decoded bytes differ", n, size, a)
				}
				// One valid sliver short of the limit.
				short := slivers(e, a, perm[:need-1])
				if _, err := c.Decode(md, short, nil, ConsistencyDefault); !errors.Is(err, ErrNotEnoughSlivers) {
					t.Fatalf("n=%d %s with %d slivers: got %v, want ErrNotEnoughSlivers", n, a, need-1, err)
				}
			}
		}
	}
}

func TestDecodeStrict(t *testing.T) {
	c := mustConfig(t, 10)
	blob := goldenInput(5000, 9)
	e := mustEncode(t, c, blob)
	got, err := c.Decode(&e.Metadata.BlobMetadata, slivers(e, Secondary, []int{9, 1, 2, 3, 4, 5, 6}), nil, ConsistencyStrict)
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("strict decode: %v", err)
	}
}

// TestInconsistentEncodingRefused builds a blob whose metadata matches a
// tampered (non-systematic) primary sliver: the slivers each verify, but do
// not form one codeword. Decoding through that sliver must fail, not return
// different bytes.
func TestInconsistentEncodingRefused(t *testing.T) {
	c := mustConfig(t, 10)
	blob := goldenInput(3000, 5)
	e := mustEncode(t, c, blob)
	k1 := c.PrimarySourceSymbols()
	bad := e.Primary[k1] // a recovery row
	bad.Data = bytes.Clone(bad.Data)
	bad.Data[0] ^= 0xff
	md := e.Metadata.BlobMetadata
	md.Hashes = append([]SliverPairMetadata(nil), md.Hashes...)
	root := c.lineRoots(Primary, e.SymbolSize, [][]byte{bad.Data})[0]
	md.Hashes[k1].Primary = digestNode(root)

	set := append([]*Sliver{&bad}, slivers(e, Primary, seq(k1)[1:])...)
	for _, mode := range []Consistency{ConsistencyDefault, ConsistencyStrict} {
		if _, err := c.Decode(&md, set, nil, mode); !errors.Is(err, ErrInconsistentEncoding) {
			t.Fatalf("mode %d: got %v, want ErrInconsistentEncoding", mode, err)
		}
	}
	// Skipping the check returns whatever the slivers say, by request.
	if got, err := c.Decode(&md, set, nil, ConsistencySkip); err != nil || bytes.Equal(got, blob) {
		t.Fatalf("skip mode: err %v, equal %v", err, bytes.Equal(got, blob))
	}
}

func TestRecoverSliver(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{4, 10, 31, 100} {
		c := mustConfig(t, n)
		blob := goldenInput(rng.IntN(50000)+1, rng.Uint32())
		e := mustEncode(t, c, blob)
		md := &e.Metadata.BlobMetadata
		for _, target := range []Axis{Primary, Secondary} {
			idx := uint16(rng.IntN(n))
			var syms []RecoverySymbol
			srcAxis := target.Other()
			for j := 0; j < n; j++ {
				src := e.Primary[j]
				if srcAxis == Secondary {
					src = e.Secondary[j]
				}
				rs, err := c.RecoverySymbols(&src, []uint16{idx})
				if err != nil {
					t.Fatal(err)
				}
				syms = append(syms, rs...)
			}
			need := c.SliverSymbols(target)
			// Corrupt all but the minimum: recovery skips them by their proofs.
			rng.Shuffle(len(syms), func(i, j int) { syms[i], syms[j] = syms[j], syms[i] })
			for i := need; i < len(syms); i++ {
				syms[i].Data = bytes.Clone(syms[i].Data)
				syms[i].Data[0] ^= 1
			}
			rng.Shuffle(len(syms), func(i, j int) { syms[i], syms[j] = syms[j], syms[i] })
			got, err := c.RecoverSliver(md, target, idx, syms)
			if err != nil {
				t.Fatalf("n=%d recover %s %d: %v", n, target, idx, err)
			}
			want := e.Primary[idx]
			if target == Secondary {
				want = e.Secondary[idx]
			}
			if !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("n=%d recover %s %d: wrong sliver", n, target, idx)
			}
			// One good symbol fewer than needed.
			var fewer []RecoverySymbol
			goodSeen := 0
			for _, s := range syms {
				if c.VerifyRecoverySymbol(md, &s) == nil {
					if goodSeen == need-1 {
						continue
					}
					goodSeen++
				}
				fewer = append(fewer, s)
			}
			if _, err := c.RecoverSliver(md, target, idx, fewer); !errors.Is(err, ErrNotEnoughSymbols) {
				t.Fatalf("n=%d: got %v, want ErrNotEnoughSymbols", n, err)
			}
		}
	}
}

func TestBCSRoundTrip(t *testing.T) {
	c := mustConfig(t, 7)
	e := mustEncode(t, c, goldenInput(777, 7))
	b := e.Metadata.MarshalBCS()
	m, err := UnmarshalMetadataWithIDBCS(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(e.Metadata.ID); err != nil {
		t.Fatal(err)
	}
	bm, err := UnmarshalMetadataBCS(e.Metadata.BlobMetadata.MarshalBCS())
	if err != nil || bm.BlobID() != e.Metadata.ID {
		t.Fatalf("metadata BCS round trip: %v", err)
	}
	for _, sl := range e.Secondary {
		got, err := UnmarshalSliverBCS(sl.MarshalBCS(), Secondary)
		if err != nil || !bytes.Equal(got.Data, sl.Data) || got.Index != sl.Index || got.SymbolSize != sl.SymbolSize {
			t.Fatalf("sliver BCS round trip: %v", err)
		}
	}
	// Truncated or extended forms are refused.
	if _, err := UnmarshalMetadataWithIDBCS(b[:len(b)-1]); !errors.Is(err, ErrBCS) {
		t.Fatalf("truncated metadata: %v", err)
	}
	if _, err := UnmarshalMetadataWithIDBCS(append(b, 0)); !errors.Is(err, ErrBCS) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestConfigLimits(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2, 3, 65536} {
		if _, err := NewConfig(n); !errors.Is(err, ErrInvalidShardCount) {
			t.Errorf("NewConfig(%d): %v", n, err)
		}
	}
	c := mustConfig(t, 4)
	if _, err := c.SymbolSize(c.MaxBlobSize()); err != nil {
		t.Error(err)
	}
	if _, err := c.SymbolSize(c.MaxBlobSize() + 1); !errors.Is(err, ErrBlobTooLarge) {
		t.Errorf("one byte over the maximum: %v", err)
	}
}

func TestShardMapping(t *testing.T) {
	var id BlobID
	id[31] = 7 // big-endian value 7
	if got := ShardForPair(id, 0, 5); got != 2 {
		t.Fatalf("ShardForPair = %d, want 2", got)
	}
	for p := 0; p < 5; p++ {
		if PairForShard(id, ShardForPair(id, p, 5), 5) != p {
			t.Fatal("mapping is not a bijection")
		}
	}
}

// EncodedLength must agree with Walrus (and the ledger, which refuses a
// registration with a smaller encoded size): 100 kB at 10 shards.
func TestEncodedLength(t *testing.T) {
	c := mustConfig(t, 10)
	got, err := c.EncodedLength(100_000)
	if err != nil || got != 399_640 {
		t.Fatalf("EncodedLength(100000) at n=10 = %d, %v; want 399640", got, err)
	}
}
