package nodeclient

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

const octetStream = "application/octet-stream"

func blobPath(id codec.BlobID) string { return "/v1/blobs/" + id.String() }

func sliverPath(id codec.BlobID, pair uint16, a codec.Axis) string {
	return blobPath(id) + "/slivers/" + strconv.Itoa(int(pair)) + "/" + a.String()
}

// GetMetadata fetches the blob's metadata. It checks only that the body
// parses and names the blob: verify the metadata (Metadata.Verify with the
// blob ID) before trusting it.
func (c *Client) GetMetadata(ctx context.Context, id codec.BlobID) (*codec.Metadata, error) {
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id) + "/metadata", accept: octetStream, limit: maxMetadataSize})
	if err != nil {
		return nil, c.fail("get metadata of "+id.String(), err)
	}
	md, err := codec.UnmarshalMetadataWithIDBCS(body)
	if err != nil {
		return nil, c.fail("get metadata of "+id.String(), fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	if md.ID != id {
		return nil, c.fail("get metadata of "+id.String(), fmt.Errorf("%w: metadata of blob %s", ErrMalformed, md.ID))
	}
	return md, nil
}

// PutMetadata stores the blob's metadata on the node.
func (c *Client) PutMetadata(ctx context.Context, id codec.BlobID, md *codec.BlobMetadata) error {
	_, _, err := c.do(ctx, request{method: http.MethodPut, path: blobPath(id) + "/metadata", body: [][]byte{md.MarshalBCS()}, limit: maxJSONSize})
	if err != nil {
		return c.fail("put metadata of "+id.String(), err)
	}
	return nil
}

// MetadataStatus tells whether the node holds the blob's metadata.
func (c *Client) MetadataStatus(ctx context.Context, id codec.BlobID) (StoredStatus, error) {
	return c.status(ctx, "metadata status of "+id.String(), blobPath(id)+"/metadata/status")
}

// GetSliver fetches the sliver of pair pair on axis a. It checks only that
// the body parses: verify the sliver against the metadata
// (codec.Config.VerifySliver) before using it.
func (c *Client) GetSliver(ctx context.Context, id codec.BlobID, pair uint16, a codec.Axis) (*codec.Sliver, error) {
	op := fmt.Sprintf("get %s sliver %d of %s", a, pair, id)
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: sliverPath(id, pair, a), accept: octetStream, limit: c.maxBody})
	if err != nil {
		return nil, c.fail(op, err)
	}
	s, err := codec.UnmarshalSliverBCS(body, a)
	if err != nil {
		return nil, c.fail(op, fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	return s, nil
}

// PutSliver stores sliver s, of pair pair, on the node. The sliver's bytes
// are sent as they are, not copied.
func (c *Client) PutSliver(ctx context.Context, id codec.BlobID, pair uint16, s *codec.Sliver) error {
	head := appendULEB(make([]byte, 0, 5), uint64(len(s.Data)))
	tail := binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(make([]byte, 0, 4), s.SymbolSize), s.Index)
	_, _, err := c.do(ctx, request{method: http.MethodPut, path: sliverPath(id, pair, s.Axis), body: [][]byte{head, s.Data, tail}, limit: maxJSONSize})
	if err != nil {
		return c.fail(fmt.Sprintf("put %s sliver %d of %s", s.Axis, pair, id), err)
	}
	return nil
}

// PutSlivers stores many slivers of one blob in one request, haulout's
// batch route (PUT /v1/blobs/{blob_id}/slivers): in practice all the
// slivers of the node's shards. The node checks each one as for PutSliver
// and answers once all are durably stored; on an error, the slivers before
// the failing one may have been stored, and sending the batch again is
// safe.
func (c *Client) PutSlivers(ctx context.Context, id codec.BlobID, slivers []BatchSliver) (BatchResult, error) {
	op := fmt.Sprintf("put %d slivers of %s", len(slivers), id)
	_, body, err := c.do(ctx, request{method: http.MethodPut, path: blobPath(id) + "/slivers", body: batchPieces(slivers), limit: maxJSONSize})
	if err != nil {
		return BatchResult{}, c.fail(op, err)
	}
	res, err := decodeData[BatchResult](body)
	if err != nil {
		return BatchResult{}, c.fail(op, err)
	}
	return res, nil
}

// SliverStatus tells whether the node holds a sliver.
func (c *Client) SliverStatus(ctx context.Context, id codec.BlobID, pair uint16, a codec.Axis) (StoredStatus, error) {
	return c.status(ctx, fmt.Sprintf("status of %s sliver %d of %s", a, pair, id), sliverPath(id, pair, a)+"/status")
}

func (c *Client) status(ctx context.Context, op, path string) (StoredStatus, error) {
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: path, accept: "application/json", limit: maxJSONSize})
	if err != nil {
		return "", c.fail(op, err)
	}
	st, err := decodeData[StoredStatus](body)
	if err != nil {
		return "", c.fail(op, err)
	}
	return st, nil
}

// Confirmation asks the node to sign a storage confirmation of the blob
// with persistence p: permanent, or deletable with the Blob object's ID.
// Check the signature (SignedMessage.Verify with the node's key) and the
// message (chain.ParseStorageConfirmation) before using it.
func (c *Client) Confirmation(ctx context.Context, id codec.BlobID, p chain.BlobPersistence) (chain.SignedMessage, error) {
	path := blobPath(id) + "/confirmation/permanent"
	if p.Deletable {
		path = blobPath(id) + "/confirmation/deletable/" + p.ObjectID.String()
	}
	op := fmt.Sprintf("confirmation (%s) of %s", p, id)
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: path, accept: "application/json", limit: maxJSONSize})
	if err != nil {
		return chain.SignedMessage{}, c.fail(op, err)
	}
	conf, err := decodeData[Confirmation](body)
	if err != nil {
		return chain.SignedMessage{}, c.fail(op, err)
	}
	if conf.Signed == nil {
		return chain.SignedMessage{}, c.fail(op, fmt.Errorf("%w: no signed confirmation", ErrMalformed))
	}
	return *conf.Signed, nil
}

// BlobStatus returns the node's view of the blob's status on chain.
func (c *Client) BlobStatus(ctx context.Context, id codec.BlobID) (chain.BlobStatus, error) {
	op := "status of " + id.String()
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id) + "/status", accept: "application/json", limit: maxJSONSize})
	if err != nil {
		return chain.BlobStatus{}, c.fail(op, err)
	}
	st, err := decodeData[chain.BlobStatus](body)
	if err != nil {
		return chain.BlobStatus{}, c.fail(op, err)
	}
	return st, nil
}

// RecoverySymbols asks the node for every recovery symbol it can give
// towards sliver targetIndex of axis target: one from each sliver of the
// other axis that its shards hold, each with its Merkle proof. The symbols
// are not checked: codec.Config.RecoverSliver checks each proof and skips
// bad ones.
func (c *Client) RecoverySymbols(ctx context.Context, id codec.BlobID, target codec.Axis, targetIndex uint16) ([]codec.RecoverySymbol, error) {
	q := url.Values{"targetSliver": {strconv.Itoa(int(targetIndex))}, "targetType": {target.String()}}
	return c.recoverySymbols(ctx, fmt.Sprintf("recovery symbols for %s sliver %d of %s", target, targetIndex, id), id, q)
}

// RecoverySymbolsByID asks the node for the listed symbols (Walrus's
// ?id=P-S form). With proofAxis set, every proof is against a sliver of
// that axis; otherwise the node picks whichever it holds.
func (c *Client) RecoverySymbolsByID(ctx context.Context, id codec.BlobID, ids []SymbolID, proofAxis *codec.Axis) ([]codec.RecoverySymbol, error) {
	q := url.Values{}
	for _, s := range ids {
		q.Add("id", s.String())
	}
	if proofAxis != nil {
		q.Set("proofAxis", proofAxis.String())
	}
	return c.recoverySymbols(ctx, fmt.Sprintf("%d recovery symbols of %s", len(ids), id), id, q)
}

func (c *Client) recoverySymbols(ctx context.Context, op string, id codec.BlobID, q url.Values) ([]codec.RecoverySymbol, error) {
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id) + "/recoverySymbols", query: q, accept: octetStream, limit: c.maxBody})
	if err != nil {
		return nil, c.fail(op, err)
	}
	syms, err := UnmarshalRecoverySymbols(body)
	if err != nil {
		return nil, c.fail(op, err)
	}
	return syms, nil
}

// Health returns the node's health; detailed adds the status of every
// shard.
func (c *Client) Health(ctx context.Context, detailed bool) (HealthInfo, error) {
	var q url.Values
	if detailed {
		q = url.Values{"detailed": {"true"}}
	}
	_, body, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/health", query: q, accept: "application/json", limit: maxJSONSize})
	if err != nil {
		return HealthInfo{}, c.fail("health", err)
	}
	h, err := decodeData[HealthInfo](body)
	if err != nil {
		return HealthInfo{}, c.fail("health", err)
	}
	return h, nil
}

// fail adds the operation and node to err, keeping it for errors.Is/As
// (an *apierr.Error for the node's own answers).
func (c *Client) fail(op string, err error) error {
	return fmt.Errorf("nodeclient: %s at %s: %w", op, c.base, err)
}
