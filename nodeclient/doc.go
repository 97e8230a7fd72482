// Package nodeclient is the client of the storage-node REST API (Walrus's,
// spec/http-apis.md §5, plus haulout's batch route): what publishers,
// aggregators, the CLI and storage nodes themselves (for recovery) use to
// talk to a node. It also owns the wire forms both sides share: the JSON
// envelopes and payloads, the BCS of recovery symbols, and the framing of
// the batch route.
//
// Every call takes a context first and talks to one node:
//
//	c, err := nodeclient.New(node.RESTURL, nodeclient.WithHTTPClient(shared))
//	err = c.PutMetadata(ctx, id, &enc.Metadata.BlobMetadata)
//	res, err := c.PutSlivers(ctx, id, slivers) // all of the node's slivers, one request
//	signed, err := c.Confirmation(ctx, id, chain.PersistencePermanent())
//
// Errors: a node's error answer comes back as an *apierr.Error (wrapped with
// the operation and the node's URL), so callers branch on Walrus's reasons
// with errors.Is(err, &apierr.Error{Reason: "NOT_REGISTERED"}) or read the
// status with errors.As. Transport failures and context errors are wrapped
// as they are. Bodies that do not parse give ErrMalformed (which wraps
// codec.ErrBCS); bodies beyond the limits ErrResponseTooLarge.
//
// What it does not do: trust. Metadata, slivers, recovery symbols and
// confirmations are parsed, never believed: callers check metadata against
// the blob ID (BlobMetadata.Verify), slivers against the metadata
// (codec.Config.VerifySliver), symbols against their proofs
// (codec.Config.RecoverSliver) and confirmations against the node's key
// (chain.SignedMessage.Verify). Nor does it retry: the caller knows which
// failures are worth another node or another attempt.
//
// Transport: one *http.Client per process, shared by the clients of every
// node (NewHTTPClient). Over https it speaks HTTP/2 (ALPN h2), as Walrus's
// nodes require, falling back to HTTP/1.1; over plain http it speaks
// HTTP/1.1 by default, which spreads concurrent multi-megabyte uploads over
// several connections, or HTTP/2 with prior knowledge (h2c) with
// TransportOptions.H2C. Nodes with self-signed certificates are trusted
// through TransportOptions.TLSConfig's RootCAs. Request bodies are sent
// without copying the slivers; response bodies are bounded (metadata by the
// largest committee, slivers and symbol lists by WithMaxBodySize).
//
// Wire forms defined here:
//
//   - Recovery symbols: Walrus's Vec<GeneralRecoverySymbol> (walrus-core
//     encoding/symbols.rs), see MarshalRecoverySymbols.
//   - The batch route PUT /v1/blobs/{blob_id}/slivers (haulout's, not
//     Walrus's): BCS Vec<{pair_index u16, axis u8, SliverData}>, see
//     AppendBatch and BatchReader. The answer is the JSON success envelope
//     with data {"stored": N, "alreadyStored": M}.
package nodeclient
