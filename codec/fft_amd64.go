//go:build amd64 && !purego

package codec

import "golang.org/x/sys/cpu"

//go:noescape
func mulAddAVX2(x, y []byte, table *[128]byte)

//go:noescape
func mulAVX2(x []byte, table *[128]byte)

//go:noescape
func fftButterflyAVX2(x, y []byte, table *[128]byte)

//go:noescape
func ifftButterflyAVX2(x, y []byte, table *[128]byte)

var hasAVX2 = cpu.X86.HasAVX2

func mulAdd(x, y []byte, t *mulTable) {
	if hasAVX2 {
		mulAddAVX2(x, y, &t.nib)
		return
	}
	mulAddGeneric(x, y, t)
}

func mul(x []byte, t *mulTable) {
	if hasAVX2 {
		mulAVX2(x, &t.nib)
		return
	}
	mulGeneric(x, t)
}

func fftButterfly(x, y []byte, t *mulTable) {
	if hasAVX2 {
		fftButterflyAVX2(x, y, &t.nib)
		return
	}
	mulAddGeneric(x, y, t)
	xorBytes(y, x)
}

func ifftButterfly(x, y []byte, t *mulTable) {
	if hasAVX2 {
		ifftButterflyAVX2(x, y, &t.nib)
		return
	}
	xorBytes(y, x)
	mulAddGeneric(x, y, t)
}
