package codec

import "golang.org/x/crypto/blake2b"

// hasher4 computes Blake2b-256 of one-block messages (at most 128 bytes)
// four at a time where the CPU allows (blake4_amd64.s), one at a time
// elsewhere. The Merkle trees of a blob at n shards take about 3n^2 such
// hashes, the bulk of encoding small blobs.
//
// Fill blocks[lane] with a message and set its length with setLen, which
// keeps the rest of the block zero as the SIMD code requires.
type hasher4 struct {
	blocks [4][blake2bBlock]byte
	lens   [4]uint64
	out    [4]Hash
}

const blake2bBlock = 128

// setLen sets lane's message length, zeroing what a longer message left.
func (h *hasher4) setLen(lane, n int) {
	if old := int(h.lens[lane]); old > n {
		clear(h.blocks[lane][n:old])
	}
	h.lens[lane] = uint64(n)
}

// run hashes the first count lanes into out.
func (h *hasher4) run(count int) {
	if hash4Fast {
		// Unused lanes are hashed too, whatever they hold; nobody reads them.
		hash4Asm(&h.blocks, &h.lens, &h.out)
		return
	}
	for lane := 0; lane < count; lane++ {
		h.out[lane] = blake2b.Sum256(h.blocks[lane][:h.lens[lane]])
	}
}
