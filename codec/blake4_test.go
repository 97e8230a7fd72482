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
