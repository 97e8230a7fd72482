package codec

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrInvalidQuiltPatchID is returned when bytes or text do not parse as a
// quilt patch ID.
var ErrInvalidQuiltPatchID = errors.New("invalid quilt patch ID")

// QuiltPatchInternalID is Walrus's QuiltPatchInternalIdV1: where a patch
// lies in its quilt, as the columns (secondary slivers) [Start, End).
type QuiltPatchInternalID struct {
	Start, End uint16
}

// quiltPatchInternalIDLen is the version byte and two u16s.
const quiltPatchInternalIDLen = 5

// Bytes returns the 5-byte form: version 0x01, start u16 LE, end u16 LE.
func (id QuiltPatchInternalID) Bytes() []byte {
	b := make([]byte, 0, quiltPatchInternalIDLen)
	b = append(b, quiltVersionV1)
	b = binary.LittleEndian.AppendUint16(b, id.Start)
	return binary.LittleEndian.AppendUint16(b, id.End)
}

// ParseQuiltPatchInternalID parses the 5-byte form. It refuses a version
// other than 1 and columns that cannot hold a patch (column 0 holds the
// index, and a patch takes at least one column).
func ParseQuiltPatchInternalID(b []byte) (QuiltPatchInternalID, error) {
	if len(b) != quiltPatchInternalIDLen {
		return QuiltPatchInternalID{}, fmt.Errorf("%w: internal ID of %d bytes, want %d", ErrInvalidQuiltPatchID, len(b), quiltPatchInternalIDLen)
	}
	if b[0] != quiltVersionV1 {
		return QuiltPatchInternalID{}, fmt.Errorf("%w: unsupported quilt version %d", ErrInvalidQuiltPatchID, b[0])
	}
	id := QuiltPatchInternalID{Start: binary.LittleEndian.Uint16(b[1:]), End: binary.LittleEndian.Uint16(b[3:])}
	if id.Start == 0 || id.Start >= id.End {
		return QuiltPatchInternalID{}, fmt.Errorf("%w: columns [%d, %d) cannot hold a patch", ErrInvalidQuiltPatchID, id.Start, id.End)
	}
	return id, nil
}

// QuiltPatchID names one patch in Walrus: the quilt's blob ID and the
// patch's internal ID. Patch IDs are not content addresses: the same file
// has another ID in another quilt.
type QuiltPatchID struct {
	Quilt BlobID
	Patch QuiltPatchInternalID
}

// quiltPatchIDTextLen is the base64url length of 37 bytes, unpadded.
const quiltPatchIDTextLen = 50

// Bytes returns the 37-byte form: blob ID, then the internal ID.
func (id QuiltPatchID) Bytes() []byte {
	return append(id.Quilt[:len(id.Quilt):len(id.Quilt)], id.Patch.Bytes()...)
}

// String returns the URL-safe, unpadded base64 form (50 characters) that
// Walrus's APIs use.
func (id QuiltPatchID) String() string { return base64.RawURLEncoding.EncodeToString(id.Bytes()) }

// MarshalText implements encoding.TextMarshaler.
func (id QuiltPatchID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *QuiltPatchID) UnmarshalText(b []byte) error {
	p, err := ParseQuiltPatchID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseQuiltPatchID parses the 50-character URL-safe base64 form.
func ParseQuiltPatchID(s string) (QuiltPatchID, error) {
	if len(s) != quiltPatchIDTextLen {
		return QuiltPatchID{}, fmt.Errorf("%w: %q: want %d URL-safe base64 characters, got %d", ErrInvalidQuiltPatchID, truncate(s), quiltPatchIDTextLen, len(s))
	}
	var b [32 + quiltPatchInternalIDLen]byte
	if n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(s)); err != nil || n != len(b) {
		return QuiltPatchID{}, fmt.Errorf("%w: %q: not URL-safe base64", ErrInvalidQuiltPatchID, truncate(s))
	}
	p, err := ParseQuiltPatchInternalID(b[32:])
	if err != nil {
		return QuiltPatchID{}, fmt.Errorf("%q: %w", s, err)
	}
	return QuiltPatchID{Quilt: BlobID(b[:32]), Patch: p}, nil
}
