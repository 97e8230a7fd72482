//go:build !amd64 || purego

package codec

const hash4Fast = false

func hash4Asm(blocks *[4][blake2bBlock]byte, lengths *[4]uint64, out *[4]Hash) {
	panic("hash4Asm without SIMD")
}

func hash4Multi(buf []byte, stride, length int, out *[4]Hash) {
	panic("hash4Multi without SIMD")
}

// Without SIMD, single hashes take the unrolled portable compression
// (blake2b_unrolled.go), about twice x/crypto's generic code in js/wasm.

func hashBlock(block *[blake2bBlock]byte, n uint64) Hash { return blake2b256Block(block, n) }

func hashPrefixed(prefix byte, data []byte) Hash { return blake2b256Prefixed(prefix, data) }
