//go:build amd64 && !purego

package codec

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The SIMD kernels must agree with the portable ones on every input.
func TestAVX2KernelsMatchGeneric(t *testing.T) {
	if !hasAVX2 {
		t.Skip("this CPU has no AVX2: the generic kernels are the ones in use")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 200; trial++ {
		n := 64 * (1 + rng.IntN(8))
		x, y := make([]byte, n), make([]byte, n)
		for i := range x {
			x[i], y[i] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		tab := mulTableFor(uint16(rng.IntN(gfModulus)))

		gx := bytes.Clone(x)
		mulAddGeneric(gx, y, tab)
		ax := bytes.Clone(x)
		mulAddAVX2(ax, y, &tab.nib)
		if !bytes.Equal(gx, ax) {
			t.Fatal("mulAdd differs")
		}

		gx = bytes.Clone(x)
		mulGeneric(gx, tab)
		ax = bytes.Clone(x)
		mulAVX2(ax, &tab.nib)
		if !bytes.Equal(gx, ax) {
			t.Fatal("mul differs")
		}

		gx, gy := bytes.Clone(x), bytes.Clone(y)
		mulAddGeneric(gx, gy, tab)
		xorBytes(gy, gx)
		ax, ay := bytes.Clone(x), bytes.Clone(y)
		fftButterflyAVX2(ax, ay, &tab.nib)
		if !bytes.Equal(gx, ax) || !bytes.Equal(gy, ay) {
			t.Fatal("fft butterfly differs")
		}

		gx, gy = bytes.Clone(x), bytes.Clone(y)
		xorBytes(gy, gx)
		mulAddGeneric(gx, gy, tab)
		ax, ay = bytes.Clone(x), bytes.Clone(y)
		ifftButterflyAVX2(ax, ay, &tab.nib)
		if !bytes.Equal(gx, ax) || !bytes.Equal(gy, ay) {
			t.Fatal("ifft butterfly differs")
		}
	}
}
