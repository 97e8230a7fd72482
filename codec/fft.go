package codec

import (
	"crypto/subtle"
	"encoding/binary"
	"sync/atomic"
)

// The additive FFT over GF(2^16) on "shards": equal-length byte strings
// holding GF(2^16) elements in blocks of 64 bytes, the 32 low bytes of 32
// elements followed by their 32 high bytes. A shard's stride is a multiple
// of 64; the engine never looks inside the layout except in mulAdd/mul.

// mulTable multiplies by one constant. Field multiplication is linear over
// GF(2), so product(x) = lo[x&0xff] ^ hi[x>>8]; lo and hi hold each product
// split for the portable kernels, its low byte in bits 0-7 and its high byte
// in bits 32-39, so that four products shifted by 0, 8, 16 and 24 and xored
// together leave the four low bytes in the low word and the four high bytes
// in the high word: the shard layout, with no per-byte repacking.
// nib holds the same products as 4-bit lookups split by output byte, for
// SIMD kernels: low bytes for nibbles 0..3, then high bytes for nibbles 0..3.
type mulTable struct {
	lo, hi [256]uint64
	nib    [128]byte
}

// mulTables caches one table per log value, built on first use; an FFT of
// size N touches only a few thousand of the 65536 possible constants.
var mulTables [gfOrder]atomic.Pointer[mulTable]

func mulTableFor(logM uint16) *mulTable {
	if t := mulTables[logM].Load(); t != nil {
		return t
	}
	gt := tables()
	t := new(mulTable)
	split := func(p uint16) uint64 { return uint64(byte(p)) | uint64(p>>8)<<32 }
	for b := 0; b < 256; b++ {
		t.lo[b] = split(gt.mulLog(uint16(b), logM))
		t.hi[b] = split(gt.mulLog(uint16(b)<<8, logM))
	}
	for i := 0; i < 4; i++ {
		for x := 0; x < 16; x++ {
			p := gt.mulLog(uint16(x)<<(4*i), logM)
			t.nib[16*i+x] = byte(p)
			t.nib[64+16*i+x] = byte(p >> 8)
		}
	}
	mulTables[logM].Store(t)
	return t
}

// mulAddGeneric sets x ^= y * c for the constant behind t, over whole 64-byte blocks.
func mulAddGeneric(x, y []byte, t *mulTable) {
	for len(y) >= 64 && len(x) >= 64 {
		xb, yb := (*[64]byte)(x), (*[64]byte)(y)
		for i := 0; i < 32; i += 8 {
			lo := binary.LittleEndian.Uint64(yb[i:])
			hi := binary.LittleEndian.Uint64(yb[32+i:])
			// Four products at a time: low bytes land in the low word, high bytes in the high word.
			a := t.lo[byte(lo)] ^ t.hi[byte(hi)] ^
				(t.lo[byte(lo>>8)]^t.hi[byte(hi>>8)])<<8 ^
				(t.lo[byte(lo>>16)]^t.hi[byte(hi>>16)])<<16 ^
				(t.lo[byte(lo>>24)]^t.hi[byte(hi>>24)])<<24
			b := t.lo[byte(lo>>32)] ^ t.hi[byte(hi>>32)] ^
				(t.lo[byte(lo>>40)]^t.hi[byte(hi>>40)])<<8 ^
				(t.lo[byte(lo>>48)]^t.hi[byte(hi>>48)])<<16 ^
				(t.lo[byte(lo>>56)]^t.hi[byte(hi>>56)])<<24
			rlo, rhi := uint64(uint32(a))|b<<32, a>>32|b&^0xffffffff
			binary.LittleEndian.PutUint64(xb[i:], binary.LittleEndian.Uint64(xb[i:])^rlo)
			binary.LittleEndian.PutUint64(xb[32+i:], binary.LittleEndian.Uint64(xb[32+i:])^rhi)
		}
		x, y = x[64:], y[64:]
	}
}

// mulGeneric sets x = x * c in place.
func mulGeneric(x []byte, t *mulTable) {
	for len(x) >= 64 {
		xb := (*[64]byte)(x)
		for i := 0; i < 32; i += 8 {
			lo := binary.LittleEndian.Uint64(xb[i:])
			hi := binary.LittleEndian.Uint64(xb[32+i:])
			// Four products at a time: low bytes land in the low word, high bytes in the high word.
			a := t.lo[byte(lo)] ^ t.hi[byte(hi)] ^
				(t.lo[byte(lo>>8)]^t.hi[byte(hi>>8)])<<8 ^
				(t.lo[byte(lo>>16)]^t.hi[byte(hi>>16)])<<16 ^
				(t.lo[byte(lo>>24)]^t.hi[byte(hi>>24)])<<24
			b := t.lo[byte(lo>>32)] ^ t.hi[byte(hi>>32)] ^
				(t.lo[byte(lo>>40)]^t.hi[byte(hi>>40)])<<8 ^
				(t.lo[byte(lo>>48)]^t.hi[byte(hi>>48)])<<16 ^
				(t.lo[byte(lo>>56)]^t.hi[byte(hi>>56)])<<24
			rlo, rhi := uint64(uint32(a))|b<<32, a>>32|b&^0xffffffff
			binary.LittleEndian.PutUint64(xb[i:], rlo)
			binary.LittleEndian.PutUint64(xb[32+i:], rhi)
		}
		x = x[64:]
	}
}

// xorBytes sets x ^= y.
func xorBytes(x, y []byte) { subtle.XORBytes(x, x, y) }

// shards is a working set of equal-stride shards in one buffer.
type shards struct {
	buf    []byte
	stride int // bytes per shard, a multiple of 64
}

func (s *shards) at(i int) []byte { return s.buf[i*s.stride : (i+1)*s.stride : (i+1)*s.stride] }

// span returns count consecutive shards starting at i as one slice.
func (s *shards) span(i, count int) []byte { return s.buf[i*s.stride : (i+count)*s.stride] }

func (s *shards) zero(from, to int) { clear(s.buf[from*s.stride : to*s.stride]) }

func (s *shards) mulAdd(x, y []byte, logM uint16) { mulAdd(x, y, mulTableFor(logM)) }

func (s *shards) mul(i int, logM uint16) { mul(s.at(i), mulTableFor(logM)) }

// fftButterfly: x ^= y*m; y ^= x.
func (s *shards) fftButterfly(x, y []byte, logM uint16) {
	if logM == gfModulus {
		xorBytes(y, x)
		return
	}
	fftButterfly(x, y, mulTableFor(logM))
}

// ifftButterfly: y ^= x; x ^= y*m.
func (s *shards) ifftButterfly(x, y []byte, logM uint16) {
	if logM == gfModulus {
		xorBytes(y, x)
		return
	}
	ifftButterfly(x, y, mulTableFor(logM))
}

// fft evaluates, in place, the size-point transform of the shards at
// [pos, pos+size), of which only the first truncated outputs are needed.
func (s *shards) fft(skew *[gfModulus]uint16, pos, size, truncated, skewDelta int) {
	dist4, dist := size, size>>2
	for dist != 0 {
		for r := 0; r < truncated; r += dist4 {
			base := r + dist + skewDelta - 1
			m01, m02, m23 := skew[base], skew[base+dist], skew[base+2*dist]
			for i := r; i < r+dist; i++ {
				s0, s1, s2, s3 := s.at(pos+i), s.at(pos+i+dist), s.at(pos+i+2*dist), s.at(pos+i+3*dist)
				s.fftButterfly(s0, s2, m02)
				s.fftButterfly(s1, s3, m02)
				s.fftButterfly(s0, s1, m01)
				s.fftButterfly(s2, s3, m23)
			}
		}
		dist4 = dist
		dist >>= 2
	}
	if dist4 == 2 {
		for r := 0; r < truncated; r += 2 {
			s.fftButterfly(s.at(pos+r), s.at(pos+r+1), skew[r+skewDelta])
		}
	}
}

// ifft is the inverse of fft over [pos, pos+size), where only the first
// truncated inputs may be non-zero.
func (s *shards) ifft(skew *[gfModulus]uint16, pos, size, truncated, skewDelta int) {
	dist, dist4 := 1, 4
	for dist4 <= size {
		for r := 0; r < truncated; r += dist4 {
			base := r + dist + skewDelta - 1
			m01, m02, m23 := skew[base], skew[base+dist], skew[base+2*dist]
			for i := r; i < r+dist; i++ {
				s0, s1, s2, s3 := s.at(pos+i), s.at(pos+i+dist), s.at(pos+i+2*dist), s.at(pos+i+3*dist)
				s.ifftButterfly(s0, s1, m01)
				s.ifftButterfly(s2, s3, m23)
				s.ifftButterfly(s0, s2, m02)
				s.ifftButterfly(s1, s3, m02)
			}
		}
		dist = dist4
		dist4 <<= 2
	}
	if dist < size {
		logM := skew[dist+skewDelta-1]
		for i := 0; i < dist; i++ {
			s.ifftButterfly(s.at(pos+i), s.at(pos+i+dist), logM)
		}
	}
}

// formalDerivative replaces the shards (as polynomial coefficients in the
// novel basis) by those of the formal derivative.
func (s *shards) formalDerivative(count int) {
	for i := 1; i < count; i++ {
		width := i & -i
		xorBytes(s.span(i-width, width), s.span(i, width))
	}
}
