package store

import (
	"encoding/binary"
	"fmt"

	"github.com/haulout/haulout/codec"
)

// The key space. Every key starts with a one-byte kind, so each kind is a
// contiguous range that can be iterated or deleted on its own:
//
//	'b' blobID              blob info (opaque to the store)
//	'm' blobID              metadata (BCS bytes)
//	's' blobID pair axis    sliver: pair index big-endian u16, axis 0|1
//	'c' name                event-stream cursor (opaque)
//	'v'                     on-disk format version
//
// All slivers of one blob are adjacent, ordered by pair index then axis, so
// listing them is one short scan and deleting them is one range tombstone.
const (
	kindInfo     byte = 'b'
	kindMetadata byte = 'm'
	kindSliver   byte = 's'
	kindCursor   byte = 'c'
	kindVersion  byte = 'v'
)

const (
	blobKeyLen   = 1 + len(codec.BlobID{})
	sliverKeyLen = blobKeyLen + 2 + 1

	// maxCursorName bounds cursor names so that keys stay small.
	maxCursorName = 255
)

// Axis says which of the two slivers of a pair: RedStuff's primary slivers are
// rows of the symbol matrix, secondary slivers its columns.
type Axis uint8

const (
	Primary Axis = iota
	Secondary
)

func (a Axis) String() string {
	switch a {
	case Primary:
		return "primary"
	case Secondary:
		return "secondary"
	}
	return fmt.Sprintf("Axis(%d)", uint8(a))
}

func (a Axis) valid() bool { return a == Primary || a == Secondary }

// SliverID names one sliver of a blob.
type SliverID struct {
	Pair uint16 // sliver pair index, 0 <= Pair < n_shards
	Axis Axis
}

func (s SliverID) String() string { return fmt.Sprintf("%d/%s", s.Pair, s.Axis) }

func blobKey(kind byte, id codec.BlobID) []byte {
	k := make([]byte, blobKeyLen)
	k[0] = kind
	copy(k[1:], id[:])
	return k
}

func sliverKey(id codec.BlobID, s SliverID) []byte {
	k := make([]byte, sliverKeyLen)
	k[0] = kindSliver
	copy(k[1:], id[:])
	binary.BigEndian.PutUint16(k[blobKeyLen:], s.Pair)
	k[blobKeyLen+2] = byte(s.Axis)
	return k
}

// sliverSpan is the half-open key range holding every sliver of id.
func sliverSpan(id codec.BlobID) (start, end []byte) {
	start = blobKey(kindSliver, id)
	return start, prefixEnd(start)
}

// kindSpan is the half-open key range of every key of one kind.
func kindSpan(kind byte) (start, end []byte) { return []byte{kind}, []byte{kind + 1} }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

func cursorKey(name string) []byte { return append([]byte{kindCursor}, name...) }

var versionKey = []byte{kindVersion}

// parseBlobKey decodes a 'b' or 'm' key.
func parseBlobKey(k []byte, kind byte) (codec.BlobID, error) {
	var id codec.BlobID
	if len(k) != blobKeyLen || k[0] != kind {
		return id, fmt.Errorf("%w: blob key %x", ErrCorrupt, k)
	}
	copy(id[:], k[1:])
	return id, nil
}

// parseSliverKey decodes an 's' key.
func parseSliverKey(k []byte) (codec.BlobID, SliverID, error) {
	var id codec.BlobID
	if len(k) != sliverKeyLen || k[0] != kindSliver {
		return id, SliverID{}, fmt.Errorf("%w: sliver key %x", ErrCorrupt, k)
	}
	copy(id[:], k[1:blobKeyLen])
	s := SliverID{Pair: binary.BigEndian.Uint16(k[blobKeyLen:]), Axis: Axis(k[blobKeyLen+2])}
	if !s.Axis.valid() {
		return id, SliverID{}, fmt.Errorf("%w: sliver key %x: axis %d", ErrCorrupt, k, k[blobKeyLen+2])
	}
	return id, s, nil
}
