package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A log record is a header of payload length (u32 LE) and CRC32C (u32 LE,
// Castagnoli, over the length bytes and the payload), then the payload.
const (
	recordHeaderSize = 8
	// maxRecordSize bounds a payload; the largest real one (a committee of
	// a few hundred nodes) is well below it.
	maxRecordSize = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errTruncated: the bytes end before the record does.
	errTruncated = errors.New("record is truncated")
	// errBadRecord: the record is complete but its length is impossible or
	// its checksum does not match.
	errBadRecord = errors.New("record is corrupt")
)

// appendRecord appends the framed payload to dst.
func appendRecord(dst, payload []byte) []byte {
	var h [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(payload)))
	crc := crc32.Update(0, castagnoli, h[:4])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], crc)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// decodeRecord decodes the record at the start of b. It returns the payload
// (aliasing b) and the record's total length, or an error wrapping
// errTruncated or errBadRecord.
func decodeRecord(b []byte) (payload []byte, n int, err error) {
	if len(b) < recordHeaderSize {
		return nil, 0, fmt.Errorf("%w: %d header bytes of %d", errTruncated, len(b), recordHeaderSize)
	}
	size := binary.LittleEndian.Uint32(b[:4])
	if size > maxRecordSize {
		return nil, 0, fmt.Errorf("%w: length %d exceeds %d", errBadRecord, size, maxRecordSize)
	}
	end := recordHeaderSize + int(size)
	if len(b) < end {
		return nil, 0, fmt.Errorf("%w: %d of %d payload bytes", errTruncated, len(b)-recordHeaderSize, size)
	}
	crc := crc32.Update(0, castagnoli, b[:4])
	crc = crc32.Update(crc, castagnoli, b[recordHeaderSize:end])
	if want := binary.LittleEndian.Uint32(b[4:8]); crc != want {
		return nil, 0, fmt.Errorf("%w: checksum %08x, want %08x", errBadRecord, crc, want)
	}
	return b[recordHeaderSize:end], end, nil
}
