//go:build amd64 && !purego

package codec

//go:noescape
func hash4AVX2(blocks *[4][blake2bBlock]byte, lengths *[4]uint64, out *[4]Hash)

var hash4Fast = hasAVX2

func hash4Asm(blocks *[4][blake2bBlock]byte, lengths *[4]uint64, out *[4]Hash) {
	hash4AVX2(blocks, lengths, out)
}
