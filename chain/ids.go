package chain

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Epoch numbers Walrus's storage epochs.
type Epoch uint32

// ObjectID is a Sui object ID (or address): 32 bytes, written 0x + 64
// lowercase hex digits.
type ObjectID [32]byte

// ParseObjectID parses a Sui object ID. Like Sui's parser it accepts the 0x
// prefix or not, upper or lower case, and fewer than 64 digits (left-padded
// with zeros, so "0x2" is the framework's address).
func ParseObjectID(s string) (ObjectID, error) {
	var id ObjectID
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(h) == 0 || len(h) > 64 {
		return id, fmt.Errorf("%w: object ID %q: want 0x and 1 to 64 hex digits", ErrInvalidArgument, clip(s))
	}
	if len(h)%2 == 1 {
		h = "0" + h
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return id, fmt.Errorf("%w: object ID %q: not hex", ErrInvalidArgument, clip(s))
	}
	copy(id[32-len(b):], b)
	return id, nil
}

// String returns 0x and 64 lowercase hex digits.
func (id ObjectID) String() string { return "0x" + hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zeros.
func (id ObjectID) IsZero() bool { return id == ObjectID{} }

// MarshalText implements encoding.TextMarshaler.
func (id ObjectID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ObjectID) UnmarshalText(b []byte) error {
	p, err := ParseObjectID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// Digest is a 32-byte Sui digest (of a transaction), written in base58.
type Digest [32]byte

// ParseDigest parses the base58 form of a digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	b, err := decodeBase58(s)
	if err != nil || len(b) != len(d) {
		return d, fmt.Errorf("%w: digest %q: want base58 of 32 bytes", ErrInvalidArgument, clip(s))
	}
	copy(d[:], b)
	return d, nil
}

// String returns the base58 form.
func (d Digest) String() string { return encodeBase58(d[:]) }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	p, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Hash is a 32-byte hash, written in standard base64 (the root hash of a
// blob's sliver-pair Merkle tree, for instance).
type Hash [32]byte

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(h[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(raw) != len(h) {
		return fmt.Errorf("%w: hash %q: want base64 of 32 bytes", ErrInvalidArgument, clip(string(b)))
	}
	copy(h[:], raw)
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
