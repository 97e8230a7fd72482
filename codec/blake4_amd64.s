//go:build amd64 && !purego

#include "textflag.h"

// Four Blake2b-256 hashes at once, one per 64-bit lane of the YMM registers,
// for messages of one block (at most 128 bytes): the Merkle trees of a blob
// at n shards need about 3n^2 such hashes, and hashing them four at a time
// takes about a quarter of the time. The sixteen state words v0..v15 live in
// Y0..Y15; message word k of the four messages is the 32 bytes at 32*k(SI),
// a transposed copy of the blocks on the stack.

DATA rot24<>+0(SB)/8, $0x0201000706050403
DATA rot24<>+8(SB)/8, $0x0a09080f0e0d0c0b
DATA rot24<>+16(SB)/8, $0x0201000706050403
DATA rot24<>+24(SB)/8, $0x0a09080f0e0d0c0b
GLOBL rot24<>(SB), RODATA|NOPTR, $32

DATA rot16<>+0(SB)/8, $0x0100070605040302
DATA rot16<>+8(SB)/8, $0x09080f0e0d0c0b0a
DATA rot16<>+16(SB)/8, $0x0100070605040302
DATA rot16<>+24(SB)/8, $0x09080f0e0d0c0b0a
GLOBL rot16<>(SB), RODATA|NOPTR, $32

// iv holds the initial state: h0..h7 (h0 with the parameter block of an
// unkeyed 32-byte digest folded in), then the IV for v8..v15, each as one
// 64-bit word to broadcast.
DATA iv<>+0(SB)/8, $0x6a09e667f2bdc928
DATA iv<>+8(SB)/8, $0xbb67ae8584caa73b
DATA iv<>+16(SB)/8, $0x3c6ef372fe94f82b
DATA iv<>+24(SB)/8, $0xa54ff53a5f1d36f1
DATA iv<>+32(SB)/8, $0x510e527fade682d1
DATA iv<>+40(SB)/8, $0x9b05688c2b3e6c1f
DATA iv<>+48(SB)/8, $0x1f83d9abfb41bd6b
DATA iv<>+56(SB)/8, $0x5be0cd19137e2179
DATA iv<>+64(SB)/8, $0x6a09e667f3bcc908
DATA iv<>+72(SB)/8, $0xbb67ae8584caa73b
DATA iv<>+80(SB)/8, $0x3c6ef372fe94f82b
DATA iv<>+88(SB)/8, $0xa54ff53a5f1d36f1
DATA iv<>+96(SB)/8, $0x510e527fade682d1
DATA iv<>+104(SB)/8, $0x9b05688c2b3e6c1f
DATA iv<>+112(SB)/8, $0x1f83d9abfb41bd6b
DATA iv<>+120(SB)/8, $0x5be0cd19137e2179
GLOBL iv<>(SB), RODATA|NOPTR, $128

// G mixes a, b, c, d with message words x and y. AVX2 has no 64-bit
// rotate: 32 is a dword shuffle, 24 and 16 byte shuffles, and 63 a shift
// pair whose temporary is d's register, d being saved on the stack.
#define G(a, b, c, d, x, y) \
	VPADDQ b, a, a                  \
	VPADDQ (x*32)(SI), a, a         \
	VPXOR a, d, d                   \
	VPSHUFD $0xb1, d, d             \
	VPADDQ d, c, c                  \
	VPXOR c, b, b                   \
	VPSHUFB rot24<>(SB), b, b       \
	VPADDQ b, a, a                  \
	VPADDQ (y*32)(SI), a, a         \
	VPXOR a, d, d                   \
	VPSHUFB rot16<>(SB), d, d       \
	VPADDQ d, c, c                  \
	VPXOR c, b, b                   \
	VMOVDQU d, 32(SP)                \
	VPSRLQ $63, b, d                \
	VPADDQ b, b, b                  \
	VPOR d, b, b                    \
	VMOVDQU 32(SP), d

#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15) \
	G(Y0, Y4, Y8, Y12, s0, s1)   \
	G(Y1, Y5, Y9, Y13, s2, s3)   \
	G(Y2, Y6, Y10, Y14, s4, s5)  \
	G(Y3, Y7, Y11, Y15, s6, s7)  \
	G(Y0, Y5, Y10, Y15, s8, s9)  \
	G(Y1, Y6, Y11, Y12, s10, s11) \
	G(Y2, Y7, Y8, Y13, s12, s13) \
	G(Y3, Y4, Y9, Y14, s14, s15)

// TRANSPOSE turns four rows of four qwords (a, b, c, d) into four columns
// (w0..w3), using t0..t3.
#define TRANSPOSE(a, b, c, d, t0, t1, t2, t3, w0, w1, w2, w3) \
	VPUNPCKLQDQ b, a, t0          \
	VPUNPCKHQDQ b, a, t1          \
	VPUNPCKLQDQ d, c, t2          \
	VPUNPCKHQDQ d, c, t3          \
	VPERM2I128 $0x20, t2, t0, w0  \
	VPERM2I128 $0x20, t3, t1, w1  \
	VPERM2I128 $0x31, t2, t0, w2  \
	VPERM2I128 $0x31, t3, t1, w3

// LOADWORDS transposes words 4k..4k+3 of the four blocks (at BX, each 128
// bytes) into 32*(4k)(SI) .. 32*(4k+3)(SI).
#define LOADWORDS(k) \
	VMOVDQU (k*32)(BX), Y0                                   \
	VMOVDQU (128+k*32)(BX), Y1                               \
	VMOVDQU (256+k*32)(BX), Y2                               \
	VMOVDQU (384+k*32)(BX), Y3                               \
	TRANSPOSE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11) \
	VMOVDQU Y8, (k*128)(SI)                                  \
	VMOVDQU Y9, (k*128+32)(SI)                               \
	VMOVDQU Y10, (k*128+64)(SI)                              \
	VMOVDQU Y11, (k*128+96)(SI)

// func hash4AVX2(blocks *[4][128]byte, lengths *[4]uint64, out *[4][32]byte)
// Hashes blocks[i][:lengths[i]] (the rest of each block must be zero).
TEXT ·hash4AVX2(SB), $576-24
	MOVQ blocks+0(FP), BX
	MOVQ lengths+8(FP), AX
	MOVQ out+16(FP), DI
	LEAQ 64(SP), SI
	LOADWORDS(0)
	LOADWORDS(1)
	LOADWORDS(2)
	LOADWORDS(3)

	VPBROADCASTQ iv<>+0(SB), Y0
	VPBROADCASTQ iv<>+8(SB), Y1
	VPBROADCASTQ iv<>+16(SB), Y2
	VPBROADCASTQ iv<>+24(SB), Y3
	VPBROADCASTQ iv<>+32(SB), Y4
	VPBROADCASTQ iv<>+40(SB), Y5
	VPBROADCASTQ iv<>+48(SB), Y6
	VPBROADCASTQ iv<>+56(SB), Y7
	VPBROADCASTQ iv<>+64(SB), Y8
	VPBROADCASTQ iv<>+72(SB), Y9
	VPBROADCASTQ iv<>+80(SB), Y10
	VPBROADCASTQ iv<>+88(SB), Y11
	VPBROADCASTQ iv<>+96(SB), Y12
	VPBROADCASTQ iv<>+104(SB), Y13
	VPBROADCASTQ iv<>+112(SB), Y14
	VPBROADCASTQ iv<>+120(SB), Y15
	// The counter is the message length; the block is the last one.
	VPXOR    0(AX), Y12, Y12
	VPCMPEQQ Y0, Y0, Y0
	VPXOR    Y0, Y14, Y14
	VPBROADCASTQ iv<>+0(SB), Y0

	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3)
	ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4)
	ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8)
	ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13)
	ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9)
	ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11)
	ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10)
	ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5)
	ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0)
	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3)

	// Digest words 0..3: h ^ v[i] ^ v[i+8], then back to one row per lane.
	VPXOR Y8, Y0, Y0
	VPXOR Y9, Y1, Y1
	VPXOR Y10, Y2, Y2
	VPXOR Y11, Y3, Y3
	VPBROADCASTQ iv<>+0(SB), Y8
	VPBROADCASTQ iv<>+8(SB), Y9
	VPBROADCASTQ iv<>+16(SB), Y10
	VPBROADCASTQ iv<>+24(SB), Y11
	VPXOR Y8, Y0, Y0
	VPXOR Y9, Y1, Y1
	VPXOR Y10, Y2, Y2
	VPXOR Y11, Y3, Y3
	TRANSPOSE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVDQU Y8, 0(DI)
	VMOVDQU Y9, 32(DI)
	VMOVDQU Y10, 64(DI)
	VMOVDQU Y11, 96(DI)
	VZEROUPPER
	RET


// LOADLANES transposes words 4k..4k+3 of the current block of the four
// messages (at R8..R11) into 32*(4k)(SI) .. 32*(4k+3)(SI).
#define LOADLANES(k) \
	VMOVDQU (k*32)(R8), Y0                                   \
	VMOVDQU (k*32)(R9), Y1                                   \
	VMOVDQU (k*32)(R10), Y2                                  \
	VMOVDQU (k*32)(R11), Y3                                  \
	TRANSPOSE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11) \
	VMOVDQU Y8, (k*128)(SI)                                  \
	VMOVDQU Y9, (k*128+32)(SI)                               \
	VMOVDQU Y10, (k*128+64)(SI)                              \
	VMOVDQU Y11, (k*128+96)(SI)

// FOLD sets h[i] ^= v[i] ^ v[i+8], h[i] at i*32(DX).
#define FOLD(vi, vj, off) \
	VPXOR vj, vi, vi        \
	VPXOR off(DX), vi, vi   \
	VMOVDQU vi, off(DX)

// func hash4MultiAVX2(buf *byte, stride, length uintptr, out *[4]Hash)
// Hashes four messages of length bytes (more than one block) at buf,
// buf+stride, buf+2*stride, buf+3*stride; each is zero-padded in place to
// a whole number of blocks.
TEXT ·hash4MultiAVX2(SB), $832-32
	MOVQ buf+0(FP), R8
	MOVQ stride+8(FP), AX
	MOVQ length+16(FP), BX
	MOVQ out+24(FP), DI
	LEAQ (R8)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	LEAQ 64(SP), SI   // message words
	LEAQ 576(SP), DX  // chaining state h0..h7, 4 lanes each
	// Blocks: ceil(length/128).
	MOVQ BX, CX
	ADDQ $127, CX
	SHRQ $7, CX
	XORQ R12, R12     // bytes counted so far

	VPBROADCASTQ iv<>+0(SB), Y0
	VPBROADCASTQ iv<>+8(SB), Y1
	VPBROADCASTQ iv<>+16(SB), Y2
	VPBROADCASTQ iv<>+24(SB), Y3
	VPBROADCASTQ iv<>+32(SB), Y4
	VPBROADCASTQ iv<>+40(SB), Y5
	VPBROADCASTQ iv<>+48(SB), Y6
	VPBROADCASTQ iv<>+56(SB), Y7
	VMOVDQU Y0, 0(DX)
	VMOVDQU Y1, 32(DX)
	VMOVDQU Y2, 64(DX)
	VMOVDQU Y3, 96(DX)
	VMOVDQU Y4, 128(DX)
	VMOVDQU Y5, 160(DX)
	VMOVDQU Y6, 192(DX)
	VMOVDQU Y7, 224(DX)

multi_block:
	LOADLANES(0)
	LOADLANES(1)
	LOADLANES(2)
	LOADLANES(3)
	// The counter: 128 more bytes, or the length for the last block.
	ADDQ $128, R12
	CMPQ CX, $1
	JNE  multi_notlast
	MOVQ BX, R12

multi_notlast:
	VMOVDQU 0(DX), Y0
	VMOVDQU 32(DX), Y1
	VMOVDQU 64(DX), Y2
	VMOVDQU 96(DX), Y3
	VMOVDQU 128(DX), Y4
	VMOVDQU 160(DX), Y5
	VMOVDQU 192(DX), Y6
	VMOVDQU 224(DX), Y7
	VPBROADCASTQ iv<>+64(SB), Y8
	VPBROADCASTQ iv<>+72(SB), Y9
	VPBROADCASTQ iv<>+80(SB), Y10
	VPBROADCASTQ iv<>+88(SB), Y11
	VPBROADCASTQ iv<>+96(SB), Y12
	MOVQ R12, X13
	VPBROADCASTQ X13, Y13
	VPXOR Y13, Y12, Y12
	VPBROADCASTQ iv<>+104(SB), Y13
	VPBROADCASTQ iv<>+112(SB), Y14
	CMPQ CX, $1
	JNE  multi_rounds
	VPCMPEQQ Y15, Y15, Y15
	VPXOR Y15, Y14, Y14

multi_rounds:
	VPBROADCASTQ iv<>+120(SB), Y15

	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3)
	ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4)
	ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8)
	ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13)
	ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9)
	ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11)
	ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10)
	ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5)
	ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0)
	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3)

	FOLD(Y0, Y8, 0)
	FOLD(Y1, Y9, 32)
	FOLD(Y2, Y10, 64)
	FOLD(Y3, Y11, 96)
	FOLD(Y4, Y12, 128)
	FOLD(Y5, Y13, 160)
	FOLD(Y6, Y14, 192)
	FOLD(Y7, Y15, 224)
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	ADDQ $128, R11
	DECQ CX
	JNZ  multi_block

	VMOVDQU 0(DX), Y0
	VMOVDQU 32(DX), Y1
	VMOVDQU 64(DX), Y2
	VMOVDQU 96(DX), Y3
	TRANSPOSE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVDQU Y8, 0(DI)
	VMOVDQU Y9, 32(DI)
	VMOVDQU Y10, 64(DI)
	VMOVDQU Y11, 96(DI)
	VZEROUPPER
	RET
