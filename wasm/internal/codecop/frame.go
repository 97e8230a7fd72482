package codecop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frames carry the WASI module's input and output: a u32 little-endian
// length, then that many bytes.

// ErrFrame is a frame stream that ends early or announces more than the
// reader allows.
var ErrFrame = errors.New("malformed frame")

// AppendFrameHeader appends the header of a frame of n bytes.
func AppendFrameHeader(dst []byte, n int) []byte {
	return binary.LittleEndian.AppendUint32(dst, uint32(n))
}

// WriteFrame writes b as one frame.
func WriteFrame(w io.Writer, b []byte) error {
	if uint64(len(b)) > 1<<32-1 {
		return fmt.Errorf("%w: %d bytes do not fit a frame", ErrFrame, len(b))
	}
	if _, err := w.Write(AppendFrameHeader(nil, len(b))); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// ReadFrameLength reads a frame header. At the end of the stream it returns
// io.EOF; a partial header is ErrFrame.
func ReadFrameLength(r io.Reader) (uint64, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%w: truncated header: %w", ErrFrame, err)
	}
	return uint64(binary.LittleEndian.Uint32(h[:])), nil
}

// ReadFrameBody reads the n bytes of a frame whose header said n.
func ReadFrameBody(r io.Reader, n uint64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: %d-byte frame cut short: %w", ErrFrame, n, err)
	}
	return b, nil
}

// ReadFrame reads one frame of at most limit bytes.
func ReadFrame(r io.Reader, limit uint64) ([]byte, error) {
	n, err := ReadFrameLength(r)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: %d-byte frame, at most %d allowed here", ErrFrame, n, limit)
	}
	return ReadFrameBody(r, n)
}
