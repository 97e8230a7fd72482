//go:build !amd64 || purego

package codec

const hash4Fast = false

func hash4Asm(blocks *[4][blake2bBlock]byte, lengths *[4]uint64, out *[4]Hash) {
	panic("hash4Asm without SIMD")
}

func hash4Multi(buf []byte, stride, length int, out *[4]Hash) {
	panic("hash4Multi without SIMD")
}
