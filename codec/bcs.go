package codec

import (
	"encoding/binary"
	"fmt"
)

// Just enough BCS (Binary Canonical Serialization) for the types the codec
// owns: little-endian integers, ULEB128 lengths and enum tags, fixed arrays.

func appendULEB(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// bcsReader reads BCS values from a byte slice, refusing anything
// non-canonical or truncated.
type bcsReader struct {
	b   []byte
	off int
}

// maxBCSLength bounds ULEB128 lengths as BCS does (2^31 - 1).
const maxBCSLength = 1<<31 - 1

func (r *bcsReader) uleb() (int, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		if r.off >= len(r.b) {
			return 0, fmt.Errorf("%w: truncated length at byte %d", ErrBCS, r.off)
		}
		c := r.b[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c == 0 && shift > 0 {
				return 0, fmt.Errorf("%w: non-canonical ULEB128 at byte %d", ErrBCS, r.off-1)
			}
			if v > maxBCSLength {
				return 0, fmt.Errorf("%w: length %d too large", ErrBCS, v)
			}
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("%w: ULEB128 too long at byte %d", ErrBCS, r.off)
}

func (r *bcsReader) bytes(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, fmt.Errorf("%w: want %d bytes at byte %d, have %d", ErrBCS, n, r.off, len(r.b)-r.off)
	}
	out := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return out, nil
}

func (r *bcsReader) u8() (uint8, error) {
	b, err := r.bytes(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *bcsReader) u16() (uint16, error) {
	b, err := r.bytes(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (r *bcsReader) u64() (uint64, error) {
	b, err := r.bytes(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (r *bcsReader) end() error {
	if r.off != len(r.b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrBCS, len(r.b)-r.off)
	}
	return nil
}
