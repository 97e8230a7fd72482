package codecop

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/haulout/haulout/codec"
)

// allocated returns the bytes fn allocates: an upper bound on its peak heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func randomBlob(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// The estimates must bound what the codec really allocates, or an entry
// point would start work it cannot finish; and they should not be so loose
// that they refuse much of what fits.
func TestEstimatesBoundAllocations(t *testing.T) {
	cases := []struct{ n, size int }{
		{4, 0}, {4, 1000}, {10, 100_000}, {100, 1 << 20}, {100, 3<<20 + 17}, {1000, 0}, {1000, 1 << 20}, {1000, 4 << 20},
	}
	if testing.Short() {
		cases = cases[:5]
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("n%d/%d", tc.n, tc.size), func(t *testing.T) {
			c, err := Config(tc.n, uint64(tc.size))
			if err != nil {
				t.Fatal(err)
			}
			// The copy of the blob an entry point makes is part of the estimate.
			src := randomBlob(tc.size, uint64(tc.size))
			var enc *codec.Encoded
			got := allocated(func() {
				blob := append([]byte(nil), src...)
				if enc, err = c.Encode(blob); err != nil {
					t.Fatal(err)
				}
			})
			need, _ := EncodeNeed(c, uint64(tc.size), true)
			check(t, "encode", got, need)

			got = allocated(func() {
				blob := append([]byte(nil), src...)
				if _, err := c.ComputeMetadata(blob); err != nil {
					t.Fatal(err)
				}
			})
			need, _ = EncodeNeed(c, uint64(tc.size), false)
			check(t, "metadata", got, need)

			// Decode from the last k1 primary slivers, handed in as BCS.
			var bcs [][]byte
			var input uint64
			for i := tc.n - c.PrimarySourceSymbols(); i < tc.n; i++ {
				b := enc.Primary[i].MarshalBCS()
				bcs = append(bcs, b)
				input += uint64(len(b))
			}
			for _, mode := range []codec.Consistency{codec.ConsistencyDefault, codec.ConsistencyStrict, codec.ConsistencySkip} {
				got = allocated(func() {
					var sl []*codec.Sliver
					for _, b := range bcs {
						s, err := codec.UnmarshalSliverBCS(append([]byte(nil), b...), codec.Primary)
						if err != nil {
							t.Fatal(err)
						}
						sl = append(sl, s)
					}
					out, err := Decode(c, enc.Metadata, sl, nil, mode)
					if err != nil || len(out) != tc.size {
						t.Fatalf("decode: %d bytes, %v", len(out), err)
					}
				})
				need, _ = DecodeNeed(c, uint64(tc.size), input, mode)
				check(t, fmt.Sprintf("decode(mode %d)", mode), got, need)
			}
		})
	}
}

func check(t *testing.T, op string, got, need uint64) {
	t.Helper()
	t.Logf("%s: allocated %s, estimated %s (%.2fx)", op, FormatBytes(got), FormatBytes(need), float64(need)/float64(max(got, 1)))
	if got > need {
		t.Errorf("%s allocated %d bytes, more than the estimate %d", op, got, need)
	}
}
