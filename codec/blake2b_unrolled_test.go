package codec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/blake2b"
)

// The unrolled portable Blake2b must agree with x/crypto on every message
// length around the block boundaries, whatever the build uses by default.

func TestBlake2b256BlockMatchesXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for n := 0; n <= blake2bBlock; n++ {
		for range 4 {
			var block [blake2bBlock]byte
			for i := range n {
				block[i] = byte(r.Uint32())
			}
			got := blake2b256Block(&block, uint64(n))
			if want := Hash(blake2b.Sum256(block[:n])); got != want {
				t.Fatalf("length %d: got %x, want %x", n, got, want)
			}
		}
	}
}

func TestBlake2b256PrefixedMatchesXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	lengths := []int{0, 1, 126, 127, 128, 129, 254, 255, 256, 257, 383, 384, 385, 7366, 1 << 16}
	for n := 0; n < 520; n += 13 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		msg := make([]byte, 1+n)
		for i := range msg {
			msg[i] = byte(r.Uint32())
		}
		got := blake2b256Prefixed(msg[0], msg[1:])
		if want := Hash(blake2b.Sum256(msg)); got != want {
			t.Fatalf("length 1+%d: got %x, want %x", n, got, want)
		}
		if got := hashPrefixed(msg[0], msg[1:]); got != Hash(blake2b.Sum256(msg)) {
			t.Fatalf("hashPrefixed, length 1+%d: wrong digest", n)
		}
	}
}

// BenchmarkHashPortable compares the unrolled portable hash with x/crypto
// on a one-block leaf (a symbol at 1000 shards) and a long leaf (a symbol of
// a 16 MiB blob at 100 shards); in js/wasm x/crypto has no assembly either:
//
//	GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" -run '^$' -bench HashPortable ./codec
func BenchmarkHashPortable(b *testing.B) {
	for _, n := range []int{76, 7366} {
		msg := make([]byte, 1+n)
		for i := range msg {
			msg[i] = byte(i)
		}
		b.Run(fmt.Sprint("unrolled/", n), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				blake2b256Prefixed(0, msg[1:])
			}
		})
		b.Run(fmt.Sprint("x-crypto/", n), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				blake2b.Sum256(msg)
			}
		})
	}
}
