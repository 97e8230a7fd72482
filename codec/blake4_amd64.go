//go:build amd64 && !purego

package codec

import "golang.org/x/crypto/blake2b"

//go:noescape
func hash4AVX2(blocks *[4][blake2bBlock]byte, lengths *[4]uint64, out *[4]Hash)

var hash4Fast = hasAVX2

func hash4Asm(blocks *[4][blake2bBlock]byte, lengths *[4]uint64, out *[4]Hash) {
	hash4AVX2(blocks, lengths, out)
}

//go:noescape
func hash4MultiAVX2(buf *byte, stride, length uintptr, out *[4]Hash)

// hash4Multi hashes four messages of length bytes each, at lane*stride in
// buf, zero-padded there to whole blocks.
func hash4Multi(buf []byte, stride, length int, out *[4]Hash) {
	_ = buf[3*stride+roundUp(length, blake2bBlock)-1]
	hash4MultiAVX2(&buf[0], uintptr(stride), uintptr(length), out)
}

// Single hashes take x/crypto's assembly, which beats portable Go on amd64
// with or without AVX2.

func hashBlock(block *[blake2bBlock]byte, n uint64) Hash { return blake2b.Sum256(block[:n]) }

func hashPrefixed(prefix byte, data []byte) (out Hash) {
	d, _ := blake2b.New256(nil) // cannot fail without a key
	d.Write([]byte{prefix})
	d.Write(data)
	d.Sum(out[:0])
	return out
}
