package codecop

import (
	"errors"
	"fmt"

	"github.com/haulout/haulout/codec"
)

// Ops are the operations both entry points offer.
const (
	OpBlobID   = "blob-id"
	OpMetadata = "metadata"
	OpEncode   = "encode"
	OpDecode   = "decode"
)

// Config returns the code for nShards, refusing blobs too large for it.
func Config(nShards int, length uint64) (codec.Config, error) {
	c, err := codec.NewConfig(nShards)
	if err != nil {
		return codec.Config{}, err
	}
	if _, err := c.SymbolSize(length); err != nil {
		return codec.Config{}, err
	}
	return c, nil
}

// ParseMetadata reads metadata in either BCS form, BlobMetadataWithId (what
// a storage node's GET .../metadata returns) or BlobMetadata (what its PUT
// takes), and checks that it is well formed and commits to its blob ID. A
// BlobMetadataWithId must carry the ID the metadata gives; want, if not
// nil, is the ID the caller expects. nShards, if not 0, must be the
// metadata's number of sliver pairs.
func ParseMetadata(b []byte, want *codec.BlobID, nShards int) (*codec.Metadata, codec.Config, error) {
	md, errWithID := codec.UnmarshalMetadataWithIDBCS(b)
	if errWithID != nil {
		bm, err := codec.UnmarshalMetadataBCS(b)
		if err != nil {
			return nil, codec.Config{}, fmt.Errorf("metadata is neither BCS BlobMetadataWithId (%v) nor BlobMetadata: %w", errWithID, err)
		}
		md = &codec.Metadata{ID: bm.BlobID(), BlobMetadata: *bm}
	}
	c, err := md.Verify(md.ID)
	if err != nil {
		return nil, codec.Config{}, err
	}
	if want != nil && *want != md.ID {
		return nil, codec.Config{}, fmt.Errorf("%w: metadata is for blob %s, want %s", codec.ErrBlobIDMismatch, md.ID, *want)
	}
	if nShards != 0 && nShards != c.NShards() {
		return nil, codec.Config{}, fmt.Errorf("%w: metadata has %d sliver pairs, want %d shards", codec.ErrInvalidMetadata, c.NShards(), nShards)
	}
	return md, c, nil
}

// Decode reconstructs the blob from primary slivers if there are any, and
// from secondary slivers if there are no primary ones or too few of them
// are valid. Every sliver used is checked against the metadata.
func Decode(c codec.Config, md *codec.Metadata, primary, secondary []*codec.Sliver, mode codec.Consistency) ([]byte, error) {
	if len(primary) == 0 && len(secondary) == 0 {
		return nil, fmt.Errorf("%w: no slivers", codec.ErrNotEnoughSlivers)
	}
	if len(primary) == 0 {
		return decodeAxis(c, md, secondary, codec.Secondary, mode)
	}
	blob, err := decodeAxis(c, md, primary, codec.Primary, mode)
	if err == nil || len(secondary) == 0 || !errors.Is(err, codec.ErrNotEnoughSlivers) {
		return blob, err
	}
	blob, err2 := decodeAxis(c, md, secondary, codec.Secondary, mode)
	if err2 != nil {
		return nil, fmt.Errorf("%w; and from secondary slivers: %w", err, err2)
	}
	return blob, nil
}

// decodeAxis decodes from the first slivers that suffice, so that a caller
// handing in every sliver does not pay for verifying all of them, and from
// all of them when some of those are invalid or repeated.
func decodeAxis(c codec.Config, md *codec.Metadata, slivers []*codec.Sliver, a codec.Axis, mode codec.Consistency) ([]byte, error) {
	if need := c.SourceSymbols(a); len(slivers) > need {
		blob, err := c.Decode(&md.BlobMetadata, slivers[:need], nil, mode)
		if err == nil || !errors.Is(err, codec.ErrNotEnoughSlivers) {
			return blob, err
		}
	}
	return c.Decode(&md.BlobMetadata, slivers, nil, mode)
}

// ParseConsistency reads "default", "strict" or "skip" ("" is default).
func ParseConsistency(s string) (codec.Consistency, error) {
	switch s {
	case "", "default":
		return codec.ConsistencyDefault, nil
	case "strict":
		return codec.ConsistencyStrict, nil
	case "skip":
		return codec.ConsistencySkip, nil
	}
	return 0, fmt.Errorf("%w: consistency %q: want default, strict or skip", ErrInvalidArgument, s)
}

// ErrInvalidArgument is a call that does not follow the API (wrong types,
// missing values), as opposed to data the codec refuses.
var ErrInvalidArgument = errors.New("invalid argument")

// Error codes: stable strings a caller can branch on (the JavaScript API
// sets them as Error.code).
const (
	CodeInvalidArgument      = "invalid-argument"
	CodeInvalidShards        = "invalid-shards"
	CodeTooLarge             = "too-large"
	CodeOutOfMemory          = "out-of-memory"
	CodeMalformedBCS         = "malformed-bcs"
	CodeInvalidMetadata      = "invalid-metadata"
	CodeUnsupportedEncoding  = "unsupported-encoding"
	CodeBlobIDMismatch       = "blob-id-mismatch"
	CodeInvalidBlobID        = "invalid-blob-id"
	CodeInvalidSliver        = "invalid-sliver"
	CodeNotEnoughSlivers     = "not-enough-slivers"
	CodeInconsistentEncoding = "inconsistent-encoding"
	CodeMalformedFrame       = "malformed-frame"
	CodeInternal             = "internal"
)

// sentinels maps error codes to the errors they stand for, in the order
// ErrorCode tries them.
var sentinels = []struct {
	err  error
	code string
}{
	{ErrMemory, CodeOutOfMemory},
	{ErrInvalidArgument, CodeInvalidArgument},
	{codec.ErrBlobIDMismatch, CodeBlobIDMismatch},
	{codec.ErrUnsupportedEncoding, CodeUnsupportedEncoding},
	{codec.ErrInvalidMetadata, CodeInvalidMetadata},
	{codec.ErrInvalidShardCount, CodeInvalidShards},
	{codec.ErrBlobTooLarge, CodeTooLarge},
	{codec.ErrBCS, CodeMalformedBCS},
	{codec.ErrInvalidBlobID, CodeInvalidBlobID},
	{codec.ErrInconsistentEncoding, CodeInconsistentEncoding},
	{codec.ErrNotEnoughSlivers, CodeNotEnoughSlivers},
	{codec.ErrInvalidSliver, CodeInvalidSliver},
	{ErrFrame, CodeMalformedFrame},
}

// Sentinel returns the error a code stands for (nil for CodeInternal and
// unknown codes), so that a host can rebuild errors that errors.Is knows.
func Sentinel(code string) error {
	for _, m := range sentinels {
		if m.code == code {
			return m.err
		}
	}
	return nil
}

// ErrorCode maps an error to its code. Where an error wraps several
// sentinels (metadata naming a bad shard count), the first match in this
// order wins: the most specific reason.
func ErrorCode(err error) string {
	for _, m := range sentinels {
		if errors.Is(err, m.err) {
			return m.code
		}
	}
	return CodeInternal
}
