package nodeclient

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/haulout/haulout/codec"
)

// ErrMalformed reports bytes that do not decode as the expected BCS value:
// a response body from a node, or a request body on the node's side. It
// wraps codec.ErrBCS, so either sentinel matches.
var ErrMalformed = fmt.Errorf("nodeclient: %w", codec.ErrBCS)

// maxBCSLength bounds ULEB128 lengths as BCS does (2^31 - 1).
const maxBCSLength = 1<<31 - 1

func appendULEB(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func ulebLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// byteSource is what the BCS reader reads from: a slice (for whole bodies)
// or a buffered stream (for the batch route, read as it arrives).
type byteSource interface {
	io.ByteReader
	io.Reader
}

// bcsReader reads canonical BCS, refusing anything truncated or
// non-canonical. off counts the bytes consumed, for error messages.
type bcsReader struct {
	src byteSource
	off int64
}

func (r *bcsReader) fail(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated %s at byte %d", ErrMalformed, what, r.off)
	}
	if err != nil && !errors.Is(err, ErrMalformed) {
		// An I/O error of the underlying stream (a body cut off, a limit
		// exceeded) is not malformed BCS: keep it as it is.
		return fmt.Errorf("read %s at byte %d: %w", what, r.off, err)
	}
	return fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, r.off)
}

func (r *bcsReader) uleb(what string) (int, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.src.ReadByte()
		if err != nil {
			return 0, r.fail(what, err)
		}
		r.off++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c == 0 && shift > 0 {
				return 0, fmt.Errorf("%w: non-canonical ULEB128 %s at byte %d", ErrMalformed, what, r.off-1)
			}
			if v > maxBCSLength {
				return 0, fmt.Errorf("%w: %s %d too large", ErrMalformed, what, v)
			}
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("%w: ULEB128 %s too long at byte %d", ErrMalformed, what, r.off)
}

func (r *bcsReader) u8(what string) (uint8, error) {
	c, err := r.src.ReadByte()
	if err != nil {
		return 0, r.fail(what, err)
	}
	r.off++
	return c, nil
}

func (r *bcsReader) u16(what string) (uint16, error) {
	var b [2]byte
	if err := r.full(b[:], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b[:]), nil
}

func (r *bcsReader) full(b []byte, what string) error {
	n, err := io.ReadFull(r.src, b)
	r.off += int64(n)
	if err != nil {
		return r.fail(what, err)
	}
	return nil
}

// end checks that nothing follows the value.
func (r *bcsReader) end() error {
	if _, err := r.src.ReadByte(); err == nil {
		return fmt.Errorf("%w: trailing bytes after byte %d", ErrMalformed, r.off)
	} else if !errors.Is(err, io.EOF) {
		return r.fail("end of body", err)
	}
	return nil
}
