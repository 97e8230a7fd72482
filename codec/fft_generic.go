//go:build !amd64 || purego

package codec

func mulAdd(x, y []byte, t *mulTable) { mulAddGeneric(x, y, t) }

func mul(x []byte, t *mulTable) { mulGeneric(x, t) }

func fftButterfly(x, y []byte, t *mulTable) {
	mulAddGeneric(x, y, t)
	xorBytes(y, x)
}

func ifftButterfly(x, y []byte, t *mulTable) {
	xorBytes(y, x)
	mulAddGeneric(x, y, t)
}
