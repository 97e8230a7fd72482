// Package storagenode is a haulout storage node: Walrus's storage-node REST
// API over HTTP (spec/http-apis.md §5), a durable sliver store, storage
// confirmations signed with the node's BLS key, recovery of missing slivers
// from other nodes, and the dropping of expired and deleted blobs.
//
// A node is configured with a Config (Dir, Ledger, NodeID and Key are
// required; everything else has a default) and run with Run, or Serve on a
// listener of the caller's:
//
//	n, err := storagenode.New(ctx, storagenode.Config{Dir: dir, Ledger: ledger, NodeID: id, Key: key,
//		Addr: storagenode.DefaultAddr, MetricsAddr: storagenode.DefaultMetricsAddr})
//	defer n.Close()
//	err = n.Run(ctx) // until ctx ends, then a graceful shutdown
//
// # Routes
//
//	GET  /v1/health[?detailed=true]                               ServiceHealthInfo
//	GET  /v1/blobs/{blob_id}/metadata                             BCS BlobMetadataWithId
//	PUT  /v1/blobs/{blob_id}/metadata                             BCS BlobMetadata
//	GET  /v1/blobs/{blob_id}/metadata/status                      "nonexistent" | "stored"
//	GET  /v1/blobs/{blob_id}/slivers/{pair}/{primary|secondary}   BCS SliverData
//	PUT  /v1/blobs/{blob_id}/slivers/{pair}/{primary|secondary}   BCS SliverData
//	GET  /v1/blobs/{blob_id}/slivers/{pair}/{axis}/status         "nonexistent" | "stored"
//	PUT  /v1/blobs/{blob_id}/slivers                              haulout's batch route (below)
//	GET  /v1/blobs/{blob_id}/confirmation/permanent               {"signed": SignedMessage}
//	GET  /v1/blobs/{blob_id}/confirmation/deletable/{object_id}   {"signed": SignedMessage}
//	GET  /v1/blobs/{blob_id}/status                               BlobStatus (the ledger's)
//	GET  /v1/blobs/{blob_id}/recoverySymbols?targetSliver=N&targetType=primary|secondary
//	GET  /v1/blobs/{blob_id}/recoverySymbols?id=P-S&id=...[&proofAxis=primary|secondary]
//
// JSON answers use Walrus's envelope {"success": {"code", "data"}}; BCS
// bodies are application/octet-stream, and BCS request bodies must come
// with that Content-Type (any parameters) or none. Every GET route also
// answers HEAD. CORS allows any origin, method and header, so that browsers
// upload slivers directly. In plain text the server speaks HTTP/1.1 and
// HTTP/2 with prior knowledge (h2c, with Go's own net/http support: the
// x/net h2c package is deprecated); with TLS, HTTP/2 (ALPN h2) and HTTP/1.1,
// on a configured certificate or a self-signed P-256 one generated once and
// kept in Dir/tls.
//
// # The batch route
//
// PUT /v1/blobs/{blob_id}/slivers takes all of one node's slivers of a
// blob in one request, so that a publisher at 1000 shards does not need
// thousands of requests per blob. The body is BCS Vec<{pair_index u16,
// axis u8 (0 primary, 1 secondary), SliverData}> (nodeclient.AppendBatch).
// The node reads it as it arrives, bounding each length by the blob's
// sliver size before reading, checks every sliver as the single-sliver
// route does, verifies them on all cores and commits them durably in
// chunks of 32 MiB. The answer ({"stored": N, "alreadyStored": M}, 201 if
// anything was new, else 200) comes once all are on disk. The first bad
// sliver ends the request with its error, whose metadata names it
// (sliverPairIndex, sliverType); chunks committed before it stay stored,
// and sending the batch again is safe.
//
// # What the node accepts
//
// Metadata and slivers only for blobs with a live Blob object on the
// ledger (registered, not expired, not deleted, not invalid). The node
// knows blobs from the ledger's event stream, which it follows from a
// cursor kept in its store; a blob it has not seen yet (an upload right
// after registration) is looked up on the ledger directly. Metadata must
// commit to the blob ID and have one pair of hashes per shard; a sliver
// must belong to a shard the node holds in the current committee
// (codec.ShardForPair), carry the index of its pair, and match its hash in
// the metadata (codec.VerifySliver). Every accepted write is durable
// (fsynced) before the answer. Slivers are stored in the BCS form they came
// in, and served back as they are.
//
// A storage confirmation (chain.StorageConfirmation of the node's current
// epoch) is signed only when the blob has a live object of the asked
// persistence (a permanent one, or that deletable object) and the node holds
// the metadata and both slivers of every pair its shards hold.
// wait_for_registration and wait_millis are accepted and checked, and, as
// with Walrus's default configuration, do not make the node wait.
//
// # Errors
//
// Every error is Walrus's JSON envelope (internal/apierr) in the domain
// storage.walrus.space with Walrus's reasons: NOT_REGISTERED, INVALID_BLOB,
// INVALID_METADATA, UNSUPPORTED_ENCODING_TYPE, METADATA_NOT_FOUND,
// SLIVER_NOT_FOUND, INVALID_SLIVER, SLIVER_INDEX_MISMATCH,
// SHARD_NOT_ASSIGNED, INDEX_OUT_OF_RANGE, MISSING_SLIVERS,
// INVALID_CONTENT_TYPE (also for bodies that are not BCS),
// SYMBOL_NOT_PRESENT_AT_SHARDS, NO_SYMBOLS_SPECIFIED, INVALID_FILTER,
// SLIVER_COUNT_EXCEEDS_LIMIT (batch route), and 503 UNAVAILABLE (domain
// global) when too many recovery-symbol requests run. Where Walrus's
// framework answers a malformed URL or query in plain text, the node uses
// the envelope with status 400 and its own reasons INVALID_BLOB_ID,
// INVALID_SLIVER_PAIR_INDEX, INVALID_SLIVER_TYPE, INVALID_OBJECT_ID and
// INVALID_QUERY. As Walrus's framework: a body beyond its limit (largest
// sliver of the committee + 128 bytes for a sliver, the metadata of n_shards
// + 128 for metadata) is 413 in plain text, an unknown route 404 and a wrong
// method 405 with empty bodies. A panic in a handler is a 500 and a log
// line, never a crash.
//
// # Background work
//
// While Serve runs, the node follows the ledger's events (one durable
// commit of records and cursor per page of events, so a crash replays at
// most a page), recovers certified blobs it does not fully hold, and drops
// blobs whose end epoch has passed, that were deleted, or that were marked
// invalid, reclaiming their space (and answering 404 for them). Recovery
// fetches the metadata from any peer (verified against the blob ID), then
// rebuilds each missing sliver from recovery symbols: its own slivers of
// the other axis and every peer's, asked at once and checked against their
// Merkle proofs as they arrive; a peer whose answer holds a bad symbol is
// logged, counted and ignored. Secondary slivers are rebuilt first (n-2f
// symbols each), so that they serve as symbols towards the primary ones
// (n-f each). Blobs are recovered RecoveryWorkers at a time, each retried
// with exponential backoff until complete, expired or deleted; a sweep every
// SweepInterval catches what events missed.
//
// # Metrics and logs
//
// Prometheus metrics (requests and latency by route, slivers stored by axis
// and source, bytes in and out, refusals by reason, confirmations,
// recovery results and bad peers, dropped blobs, epoch, event cursor,
// shards, blobs, store disk use, Go and process collectors) are served on
// a separate listener (Config.MetricsAddr) or by MetricsHandler. Logs are
// structured (log/slog).
//
// # Not implemented
//
// Buffering uploads that precede registration (?pending=true is accepted
// and checked; a blob must be registered first), inconsistency proofs and
// invalid-blob attestations (a recovery that proves a blob inconsistently
// encoded is logged and counted), the decodingSymbols and sync_shard
// routes, shard migration between committees (a node that gains shards
// fills them by recovery; slivers of shards it lost stay until their blobs
// expire), and certificate pinning to an on-chain network key.
package storagenode
