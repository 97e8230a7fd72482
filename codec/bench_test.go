package codec

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/reedsolomon"
	"golang.org/x/crypto/blake2b"
)

// Benchmarks of the codec beside a baseline in the same run:
// klauspost/reedsolomon (Leopard GF(2^16), its fastest wide code) doing the
// same two expansions on the same bytes, plus Blake2b-256 over every symbol
// of the expanded matrix. Compare with benchstat or by the MB/s columns:
//
//	go test -run '^$' -bench 'Encode|Baseline' -benchmem ./codec

var benchSizes = []struct {
	name string
	size int
}{{"1MiB", 1 << 20}, {"64MiB", 64 << 20}, {"256MiB", 256 << 20}}

var benchShards = []int{1000, 100}

func benchBlob(size int) []byte {
	b := make([]byte, size)
	x := uint64(0x9e3779b97f4a7c15)
	for i := 0; i+8 <= size; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8; j++ {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	return b
}

// peakHeap samples the heap while fn runs and returns the highest value.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

func BenchmarkEncode(b *testing.B) {
	for _, n := range benchShards {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("n=%d/%s", n, sz.name), func(b *testing.B) {
				c := mustConfig(b, n)
				if uint64(sz.size) > c.MaxBlobSize() {
					b.Skipf("%s is over the %d-byte limit of %d shards", sz.name, c.MaxBlobSize(), n)
				}
				blob := benchBlob(sz.size)
				enc, _ := c.EncodedLength(uint64(sz.size))
				b.SetBytes(int64(sz.size))
				b.ResetTimer()
				var peak uint64
				for i := 0; i < b.N; i++ {
					peak = max(peak, peakHeap(func() { mustEncode(b, c, blob) }))
				}
				// Peak heap over (blob + all its slivers): the goal is <= 1.10.
				b.ReportMetric(float64(peak)/float64(uint64(sz.size)+enc), "peak/(blob+slivers)")
			})
		}
	}
}

func BenchmarkComputeMetadata(b *testing.B) {
	for _, n := range benchShards {
		for _, sz := range benchSizes[:2] {
			b.Run(fmt.Sprintf("n=%d/%s", n, sz.name), func(b *testing.B) {
				c := mustConfig(b, n)
				blob := benchBlob(sz.size)
				b.SetBytes(int64(sz.size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := c.ComputeMetadata(blob); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecode decodes from n-2f primary slivers of which half are
// recovery slivers, so the erasure decoder does real work. "verify" checks
// every sliver against the metadata and runs the default consistency
// check, as an aggregator does; "rs" takes pre-verified slivers and skips
// the check: the Reed-Solomon decoding alone.
func BenchmarkDecode(b *testing.B) {
	for _, n := range benchShards {
		for _, sz := range benchSizes {
			c := mustConfig(b, n)
			if uint64(sz.size) > c.MaxBlobSize() {
				continue
			}
			var e *Encoded
			var set []*Sliver
			setup := func(b *testing.B) {
				if e != nil {
					return
				}
				e = mustEncode(b, c, benchBlob(sz.size))
				k1 := c.PrimarySourceSymbols()
				for i := 0; i < k1; i++ {
					idx := i
					if i%2 == 1 {
						idx = k1 + i/2
					}
					set = append(set, &e.Primary[idx])
				}
			}
			for _, mode := range []string{"rs", "verify"} {
				b.Run(fmt.Sprintf("n=%d/%s/%s", n, sz.name, mode), func(b *testing.B) {
					setup(b)
					verified, cons := []bool(nil), ConsistencyDefault
					if mode == "rs" {
						verified = make([]bool, len(set))
						for i := range verified {
							verified[i] = true
						}
						cons = ConsistencySkip
					}
					b.SetBytes(int64(sz.size))
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := c.Decode(&e.Metadata.BlobMetadata, set, verified, cons); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			e, set = nil, nil
		}
	}
}

// BenchmarkBaseline is klauspost/reedsolomon expanding the same blob the
// same two ways (rows: n-f data shards to f parity; columns: n-2f to 2f) and
// Blake2b-256 over each of the n*n symbols, on all cores.
func BenchmarkBaseline(b *testing.B) {
	for _, n := range benchShards {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("n=%d/%s", n, sz.name), func(b *testing.B) {
				c := mustConfig(b, n)
				if uint64(sz.size) > c.MaxBlobSize() {
					b.Skipf("%s is over the %d-byte limit of %d shards", sz.name, c.MaxBlobSize(), n)
				}
				blob := benchBlob(sz.size)
				s, _ := c.SymbolSize(uint64(sz.size))
				k1, k2, f := c.k1, c.k2, c.f
				rowEnc, err := reedsolomon.New(k2, f, reedsolomon.WithLeopardGF16(true))
				if err != nil {
					b.Fatal(err)
				}
				colEnc, err := reedsolomon.New(k1, n-k1, reedsolomon.WithLeopardGF16(true))
				if err != nil {
					b.Fatal(err)
				}
				// Shards are whole columns (k1 symbols) and whole rows (n
				// symbols), padded to Leopard's 64-byte multiple.
				colBytes := roundUp(k1*s, 64)
				rowBytes := roundUp(n*s, 64)
				b.SetBytes(int64(sz.size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					cols := make([][]byte, n)
					for j := range cols {
						cols[j] = make([]byte, colBytes)
					}
					for r := 0; r < k1; r++ {
						for j := 0; j < k2; j++ {
							off := (r*k2 + j) * s
							if off < len(blob) {
								copy(cols[j][r*s:(r+1)*s], blob[off:min(off+s, len(blob))])
							}
						}
					}
					if err := rowEnc.Encode(cols); err != nil {
						b.Fatal(err)
					}
					rows := make([][]byte, n)
					for r := range rows {
						rows[r] = make([]byte, rowBytes)
					}
					for r := 0; r < k1; r++ {
						for j := 0; j < n; j++ {
							copy(rows[r][j*s:(j+1)*s], cols[j][r*s:(r+1)*s])
						}
					}
					if err := colEnc.Encode(rows); err != nil {
						b.Fatal(err)
					}
					var wg sync.WaitGroup
					workers := runtime.GOMAXPROCS(0)
					for w := range workers {
						wg.Go(func() {
							h := newLeafHasher()
							for r := w; r < n; r += workers {
								for j := 0; j < n; j++ {
									_ = h.leaf(rows[r][j*s : (j+1)*s])
								}
							}
						})
					}
					wg.Wait()
				}
			})
		}
	}
}

// BenchmarkBlake2b is the cost of one leaf hash, the floor under small
// blobs at many shards (n*n leaves and about 2n*n inner nodes).
func BenchmarkBlake2b(b *testing.B) {
	var buf [65]byte
	for i := 0; i < b.N; i++ {
		buf[0] = byte(i)
		_ = blake2b.Sum256(buf[:])
	}
}
