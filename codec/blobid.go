package codec

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// BlobID names a blob by its content: Blake2b-256 over the encoding type, the
// unencoded length and the Merkle root of the sliver-pair hashes.
type BlobID [32]byte

// ErrInvalidBlobID is returned when text does not parse as a blob ID.
var ErrInvalidBlobID = errors.New("invalid blob ID")

// String returns the URL-safe, unpadded base64 form (43 characters) that
// Walrus uses everywhere a blob ID is written.
func (id BlobID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// MarshalText implements encoding.TextMarshaler.
func (id BlobID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *BlobID) UnmarshalText(b []byte) error {
	p, err := ParseBlobID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseBlobID parses the 43-character URL-safe base64 form of a blob ID.
func ParseBlobID(s string) (BlobID, error) {
	var id BlobID
	if len(s) != 43 {
		return id, fmt.Errorf("%w: %q: want 43 URL-safe base64 characters, got %d", ErrInvalidBlobID, truncate(s), len(s))
	}
	n, err := base64.RawURLEncoding.Strict().Decode(id[:], []byte(s))
	if err != nil || n != 32 {
		return BlobID{}, fmt.Errorf("%w: %q: not URL-safe base64", ErrInvalidBlobID, truncate(s))
	}
	return id, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
