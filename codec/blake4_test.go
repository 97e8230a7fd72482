package codec

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/blake2b"
)

func TestHash4MatchesBlake2b(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var h hasher4
	for round := 0; round < 3; round++ {
		for length := 0; length <= blake2bBlock; length++ {
			var msgs [4][]byte
			for lane := range msgs {
				// Lanes of different lengths, to check setLen's zeroing too.
				l := (length + 37*lane*round) % (blake2bBlock + 1)
				msgs[lane] = make([]byte, l)
				for j := range msgs[lane] {
					msgs[lane][j] = byte(rng.Uint32())
				}
			}
			count := 1 + rng.IntN(4)
			for lane := 0; lane < count; lane++ {
				h.setLen(lane, len(msgs[lane]))
				copy(h.blocks[lane][:], msgs[lane])
			}
			h.run(count)
			for lane := 0; lane < count; lane++ {
				if want := blake2b.Sum256(msgs[lane]); h.out[lane] != want {
					t.Fatalf("length %d lane %d of %d: got %x, want %x", len(msgs[lane]), lane, count, h.out[lane], want)
				}
			}
		}
	}
}

func BenchmarkHash4(b *testing.B) {
	var h hasher4
	for lane := 0; lane < 4; lane++ {
		h.setLen(lane, 65)
	}
	for i := 0; i < b.N; i++ {
		h.blocks[0][0] = byte(i)
		h.run(4)
	}
}

func TestHash4MultiMatchesBlake2b(t *testing.T) {
	if !hash4Fast {
		t.Skip("no SIMD on this CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for length := 129; length <= 1200; length += 1 + rng.IntN(37) {
		stride := roundUp(length, blake2bBlock) + 64*rng.IntN(3)
		buf := make([]byte, 4*stride)
		for lane := 0; lane < 4; lane++ {
			for j := 0; j < length; j++ {
				buf[lane*stride+j] = byte(rng.Uint32())
			}
		}
		var out [4]Hash
		hash4Multi(buf, stride, length, &out)
		for lane := 0; lane < 4; lane++ {
			if want := blake2b.Sum256(buf[lane*stride : lane*stride+length]); out[lane] != want {
				t.Fatalf("length %d lane %d: got %x, want %x", length, lane, out[lane], want)
			}
		}
	}
	for _, length := range []int{256, 384, 1024, 65535} {
		stride := roundUp(length, blake2bBlock)
		buf := make([]byte, 4*stride)
		for i := range buf {
			if i%stride < length {
				buf[i] = byte(i * 7)
			}
		}
		var out [4]Hash
		hash4Multi(buf, stride, length, &out)
		for lane := 0; lane < 4; lane++ {
			if want := blake2b.Sum256(buf[lane*stride : lane*stride+length]); out[lane] != want {
				t.Fatalf("length %d lane %d differs", length, lane)
			}
		}
	}
}
