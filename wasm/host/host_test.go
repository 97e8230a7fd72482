package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/wasmbuild"
)

const modulePath = "github.com/haulout/haulout/wasm/wasip1"

var (
	compileOnce sync.Once
	compiled    *Codec
	compileErr  error
)

// module returns the codec module, built and compiled once per test binary.
func module(tb testing.TB) *Codec {
	tb.Helper()
	wasm := wasmbuild.Build(tb, "wasip1", modulePath)
	compileOnce.Do(func() { compiled, compileErr = New(context.Background(), wasm, Options{}) })
	if compileErr != nil {
		tb.Fatal(compileErr)
	}
	return compiled
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// The WASI build under wazero writes byte for byte what the native codec
// computes, on random inputs.
func TestMatchesNative(t *testing.T) {
	m := module(t)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	// Under wazero an operation at 1000 shards takes seconds whatever the
	// size (the 1000 x 1000 matrix is hashed), so that case only encodes.
	cases := []struct {
		n, maxSize int
		encodeOnly bool
	}{{4, 2000, false}, {7, 100_000, false}, {10, 300_000, false}, {100, 1 << 20, false}, {301, 100_000, false}, {1000, 50_000, true}}
	for _, tc := range cases {
		size := r.IntN(tc.maxSize + 1)
		t.Run(fmt.Sprintf("n%d/%d", tc.n, size), func(t *testing.T) {
			if tc.encodeOnly && testing.Short() {
				t.Skip("seconds of work under wazero; runs without -short")
			}
			data := randomBytes(r, size)
			c, err := codec.NewConfig(tc.n)
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.Encode(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Encode(ctx, data, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Metadata, want.Metadata.MarshalBCS()) {
				t.Fatal("encode's metadata BCS differs from native")
			}
			for p := range tc.n {
				prim, sec := want.Pair(p)
				if !bytes.Equal(got.Primary[p], prim.MarshalBCS()) || !bytes.Equal(got.Secondary[p], sec.MarshalBCS()) {
					t.Fatalf("sliver pair %d differs from native", p)
				}
			}
			if tc.encodeOnly {
				return
			}
			id, err := m.BlobID(ctx, data, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if id != want.Metadata.ID {
				t.Fatalf("blob ID %s, native %s", id, want.Metadata.ID)
			}
			md, err := m.Metadata(ctx, data, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(md, want.Metadata.MarshalBCS()) {
				t.Fatal("metadata BCS differs from native")
			}

			// Decode what the module wrote, from the last k1 primary slivers
			// (real erasure decoding), and from secondary slivers only.
			var prim, sec []Sliver
			for p := tc.n - c.PrimarySourceSymbols(); p < tc.n; p++ {
				prim = append(prim, Sliver{codec.Primary, got.Primary[p]})
			}
			for p := range c.SecondarySourceSymbols() {
				sec = append(sec, Sliver{codec.Secondary, got.Secondary[p]})
			}
			for _, in := range []struct {
				name    string
				slivers []Sliver
				mode    codec.Consistency
			}{{"primary", prim, codec.ConsistencyDefault}, {"secondary", sec, codec.ConsistencyStrict}} {
				blob, err := m.Decode(ctx, got.Metadata, in.slivers, in.mode)
				if err != nil {
					t.Fatalf("decode from %s slivers: %v", in.name, err)
				}
				if !bytes.Equal(blob, data) {
					t.Fatalf("decode from %s slivers: wrong bytes", in.name)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	m := module(t)
	ctx := context.Background()
	data := []byte("hello world")

	_, err := m.BlobID(ctx, data, 3)
	wantErr(t, err, codec.ErrInvalidShardCount, "invalid-shards")

	_, err = m.BlobID(ctx, make([]byte, 393205), 4)
	wantErr(t, err, codec.ErrBlobTooLarge, "too-large")

	enc, err := m.Encode(ctx, data, 10)
	if err != nil {
		t.Fatal(err)
	}
	var slivers []Sliver
	for p := range 10 {
		bad := bytes.Clone(enc.Primary[p])
		bad[1] ^= 1
		slivers = append(slivers, Sliver{codec.Primary, bad})
	}
	_, err = m.Decode(ctx, enc.Metadata, slivers, codec.ConsistencyDefault)
	wantErr(t, err, codec.ErrNotEnoughSlivers, "not-enough-slivers")

	_, err = m.Decode(ctx, []byte("garbage"), nil, codec.ConsistencyDefault)
	wantErr(t, err, codec.ErrBCS, "malformed-bcs")

	// A host with a 64 MiB memory limit plans within 48 MiB.
	small, err := New(ctx, wasmbuild.Build(t, "wasip1", modulePath), Options{MemoryLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close(ctx)
	_, err = small.Encode(ctx, make([]byte, 16<<20), 1000)
	wantErr(t, err, ErrMemory, "out-of-memory")
	if id, err := small.BlobID(ctx, data, 10); err != nil || id.String() != "kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg" {
		t.Fatalf("small host: %v, %v", id, err)
	}
}

func wantErr(t *testing.T, err, sentinel error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, sentinel) || e.Code != code {
		t.Fatalf("got %v, want an *Error with code %s wrapping %v", err, code, sentinel)
	}
	t.Logf("%s: %v", code, err)
}

func TestDeadline(t *testing.T) {
	m := module(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.Encode(ctx, make([]byte, 4<<20), 1000) // seconds of work
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopped after %v", d)
	}
	t.Log(err)
}

func TestConcurrentRuns(t *testing.T) {
	m := module(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte(i)}, 10_000+i)
			want, _ := codec.ComputeBlobID(data, 100)
			got, err := m.BlobID(ctx, data, 100)
			if err == nil && got != want {
				err = fmt.Errorf("run %d: blob ID %s, want %s", i, got, want)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// benchInput is HAULOUT_BENCH_FILE (as wasm/bench.sh sets it) or 16 MiB of
// random bytes.
func benchInput(b *testing.B) []byte {
	if f := os.Getenv("HAULOUT_BENCH_FILE"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	return randomBytes(rand.New(rand.NewPCG(1, 2)), 16<<20)
}

// BenchmarkBlobID compares the WASI module under wazero with the native
// codec (on all cores, and on one as the module has) on the same input;
// wazero-uninterruptible is the module without the checks that let a
// context stop it.
func BenchmarkBlobID(b *testing.B) {
	data := benchInput(b)
	m := module(b)
	ctx := context.Background()
	fast, err := newCodec(ctx, wasmbuild.Build(b, "wasip1", modulePath), Options{}, false)
	if err != nil {
		b.Fatal(err)
	}
	defer fast.Close(ctx)
	for _, n := range []int{1000, 100} {
		b.Run(fmt.Sprintf("n=%d/native", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := codec.ComputeBlobID(data, n); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/native-1core", n), func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := codec.ComputeBlobID(data, n); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, c := range []struct {
			name string
			m    *Codec
		}{{"wazero", m}, {"wazero-uninterruptible", fast}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := c.m.BlobID(ctx, data, n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
