package codec

import "encoding/binary"

//go:generate go run blake2b_gen.go

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
		h.out[lane] = hashBlock(&h.blocks[lane], h.lens[lane])
	}
}

// blake2b256Prefixed returns Blake2b-256 of prefix || data with the unrolled
// portable compression: the Merkle leaf hash H(0x00 || data) of a leaf longer
// than a block, where neither SIMD nor x/crypto's assembly is at hand.
func blake2b256Prefixed(prefix byte, data []byte) Hash {
	h := [8]uint64{blake2b256Param0, blake2bIV1, blake2bIV2, blake2bIV3, blake2bIV4, blake2bIV5, blake2bIV6, blake2bIV7}
	var block [blake2bBlock]byte
	block[0] = prefix
	n := copy(block[1:], data)
	data = data[n:]
	t := uint64(1 + n)
	if len(data) > 0 {
		blake2bCompress(&h, block[:], t, false)
		// The following blocks lie whole inside data; the last one, full or
		// not, is compressed as final below, from a zero-padded copy.
		for len(data) > blake2bBlock {
			t += blake2bBlock
			blake2bCompress(&h, data, t, false)
			data = data[blake2bBlock:]
		}
		clear(block[copy(block[:], data):])
		t += uint64(len(data))
	}
	blake2bCompress(&h, block[:], t, true)
	var out Hash
	for i := range 4 {
		binary.LittleEndian.PutUint64(out[8*i:], h[i])
	}
	return out
}
