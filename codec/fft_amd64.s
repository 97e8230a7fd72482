//go:build amd64 && !purego

#include "textflag.h"

// GF(2^16) multiply kernels on 64-byte blocks (32 low bytes, then 32 high
// bytes of 32 elements) with AVX2 nibble lookups: the product of an element
// by a constant is the XOR of four 16-entry table lookups, one per nibble,
// done with VPSHUFB on 32 elements at a time. table points to 8 x 16 bytes:
// low-byte tables for nibbles 0..3, then high-byte tables for nibbles 0..3.
// All functions take whole blocks: len/64 of them.

// LOADTABLES fills Y0-Y7 with the tables and Y8 with the nibble mask.
#define LOADTABLES(tab) \
	VBROADCASTI128 0(tab), Y0    \
	VBROADCASTI128 16(tab), Y1   \
	VBROADCASTI128 32(tab), Y2   \
	VBROADCASTI128 48(tab), Y3   \
	VBROADCASTI128 64(tab), Y4   \
	VBROADCASTI128 80(tab), Y5   \
	VBROADCASTI128 96(tab), Y6   \
	VBROADCASTI128 112(tab), Y7  \
	MOVQ $0x0f0f0f0f0f0f0f0f, BX \
	MOVQ BX, X8                  \
	VPBROADCASTQ X8, Y8

// PRODUCT multiplies the 32 elements whose low bytes are in Y9 and high
// bytes in Y10, leaving low bytes in Y13 and high bytes in Y14. It
// clobbers Y9-Y12 and Y15.
#define PRODUCT \
	VPSRLQ $4, Y9, Y11     \
	VPAND Y8, Y9, Y9       \
	VPAND Y8, Y11, Y11     \
	VPSRLQ $4, Y10, Y12    \
	VPAND Y8, Y10, Y10     \
	VPAND Y8, Y12, Y12     \
	VPSHUFB Y9, Y0, Y13    \
	VPSHUFB Y11, Y1, Y15   \
	VPXOR Y15, Y13, Y13    \
	VPSHUFB Y10, Y2, Y15   \
	VPXOR Y15, Y13, Y13    \
	VPSHUFB Y12, Y3, Y15   \
	VPXOR Y15, Y13, Y13    \
	VPSHUFB Y9, Y4, Y14    \
	VPSHUFB Y11, Y5, Y15   \
	VPXOR Y15, Y14, Y14    \
	VPSHUFB Y10, Y6, Y15   \
	VPXOR Y15, Y14, Y14    \
	VPSHUFB Y12, Y7, Y15   \
	VPXOR Y15, Y14, Y14

// func mulAddAVX2(x, y []byte, table *[128]byte)
// x ^= y * c
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ table+48(FP), AX
	SHRQ $6, CX
	JZ   muladd_done
	LOADTABLES(AX)

muladd_loop:
	VMOVDQU 0(SI), Y9
	VMOVDQU 32(SI), Y10
	PRODUCT
	VPXOR   0(DI), Y13, Y13
	VPXOR   32(DI), Y14, Y14
	VMOVDQU Y13, 0(DI)
	VMOVDQU Y14, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     muladd_loop
	VZEROUPPER

muladd_done:
	RET

// func mulAVX2(x []byte, table *[128]byte)
// x = x * c
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ x_base+0(FP), DI
	MOVQ x_len+8(FP), CX
	MOVQ table+24(FP), AX
	SHRQ $6, CX
	JZ   mul_done
	LOADTABLES(AX)

mul_loop:
	VMOVDQU 0(DI), Y9
	VMOVDQU 32(DI), Y10
	PRODUCT
	VMOVDQU Y13, 0(DI)
	VMOVDQU Y14, 32(DI)
	ADDQ    $64, DI
	DECQ    CX
	JNZ     mul_loop
	VZEROUPPER

mul_done:
	RET

// func fftButterflyAVX2(x, y []byte, table *[128]byte)
// x ^= y * c; y ^= x
TEXT ·fftButterflyAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ table+48(FP), AX
	SHRQ $6, CX
	JZ   fft_done
	LOADTABLES(AX)

fft_loop:
	VMOVDQU 0(SI), Y9
	VMOVDQU 32(SI), Y10
	PRODUCT
	VPXOR   0(DI), Y13, Y13
	VPXOR   32(DI), Y14, Y14
	VMOVDQU Y13, 0(DI)
	VMOVDQU Y14, 32(DI)
	VPXOR   0(SI), Y13, Y13
	VPXOR   32(SI), Y14, Y14
	VMOVDQU Y13, 0(SI)
	VMOVDQU Y14, 32(SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     fft_loop
	VZEROUPPER

fft_done:
	RET

// func ifftButterflyAVX2(x, y []byte, table *[128]byte)
// y ^= x; x ^= y * c
TEXT ·ifftButterflyAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ table+48(FP), AX
	SHRQ $6, CX
	JZ   ifft_done
	LOADTABLES(AX)

ifft_loop:
	VMOVDQU 0(SI), Y9
	VMOVDQU 32(SI), Y10
	VPXOR   0(DI), Y9, Y9
	VPXOR   32(DI), Y10, Y10
	VMOVDQU Y9, 0(SI)
	VMOVDQU Y10, 32(SI)
	PRODUCT
	VPXOR   0(DI), Y13, Y13
	VPXOR   32(DI), Y14, Y14
	VMOVDQU Y13, 0(DI)
	VMOVDQU Y14, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     ifft_loop
	VZEROUPPER

ifft_done:
	RET
