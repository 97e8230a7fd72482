// Package aggregator is haulout's aggregator: Walrus's read API over HTTP
// (echo v4). It reads a blob from the storage nodes of the current committee,
// checks every byte it serves against the blob ID, streams it, and keeps
// reconstructed blobs in a byte-bounded cache in memory and on disk.
//
// # Routes
//
// Every route answers GET and HEAD; CORS allows any origin (preflights
// answered for every path, cached a day) and exposes ETag, Content-Range,
// Content-Length, Accept-Ranges and X-Quilt-Patch-Identifier to scripts.
//
//	/v1/blobs/{blob_id}                           the blob; Range, If-None-Match, If-Range
//	/v1/blobs/by-object-id/{object_id}            the same through a Blob object; allowed attributes as headers
//	/v1/blobs/{blob_id}/byte-range?start=&length= a slice, answered 200 (CDN friendly), ETag "{id}-{start}-{length}"
//	/v1/blobs/by-quilt-patch-id/{patch_id}        a quilt patch; Range, If-None-Match, If-Range
//	/v1/blobs/by-quilt-id/{quilt_id}/{identifier} the same by identifier (percent-encoded)
//	/v1/quilts/{quilt_id}/patches                 the quilt's index as JSON [{identifier, patch_id, tags}]
//	/status                                       "OK"
//	/v1/api                                       an HTML page describing the API
//	/v1/api/openapi.json                          the OpenAPI 3 document of the routes served
//	/ and /ui/...                                 the web pages (Config.UI: package web, wired by cmd)
//	/sites/{site_id}/{path}                       a static site (package site), resolved as Walrus's portal
//	{base36 site id}.localhost[:port]/{path}      the same site by host, on its own origin (sites.go)
//
// Walrus's headers: X-Content-Type-Options: nosniff; its Cache-Control;
// Content-Type mirrored from the request's Accept (one type, no wildcard) or,
// for GET, its Content-Type, else from an allowed attribute, else none (or
// a sniffed one with Config.SniffContentType). Beyond Walrus: a strong,
// quoted ETag (the blob ID; Walrus's bare one is accepted in If-None-Match)
// answered 304; Accept-Ranges: bytes and every single RFC 9110 range (a-b,
// a-, -n) with 206, 416 with Content-Range: bytes */size when
// unsatisfiable; several ranges get the whole blob (200); unknown query
// parameters are ignored (Walrus refuses them, which breaks cache busters).
// HEAD is answered from the metadata, without reading slivers. Errors use
// Walrus's JSON envelope (404 BLOB_NOT_FOUND, 503 BLOB_UNAVAILABLE, 416 and
// 400 INVALID_BYTE_RANGE, 403 BLOB_TOO_LARGE, 400 INVALID_CONSISTENCY_CHECK);
// malformed IDs and queries are 400 in plain text and overload is 429 in
// plain text, as Walrus's framework answers them.
//
// # A read
//
// The blob's status comes from the ledger: unknown, never certified, deleted,
// expired and invalid blobs are 404. The metadata comes from the nodes, a few
// at a time, and is used only if it commits to the blob ID. The blob matrix's
// rows are its primary slivers; the rows that hold the blob's bytes
// (sliver pair -> shard -> node) are fetched first, each checked against its
// Merkle root in the metadata as it arrives, lowest first. Once all of them
// have arrived, the response streams row by row as rows are verified. When
// a node is down, slow (hedging), or sends a sliver or metadata that does not
// verify (such a node is not asked again during the read), further primary
// slivers are fetched from the fastest nodes and the blob is decoded by
// package codec under the request's consistency mode. A blob that cannot be
// read and verified is 503 BLOB_UNAVAILABLE; wrong bytes are never served.
//
// Invariants:
//   - Every byte sent was checked against the blob ID: rows against the
//     verified metadata's sliver hashes, decoded blobs by codec's consistency
//     check, cached blobs by a SHA-256 kept in their file name.
//   - A response that has started is never completed with unverified bytes.
//     Streaming starts only once every row has arrived, so a node that is
//     down or slow gives a decoded blob or a 503, not a cut response; if a
//     row that arrived then fails its check and decoding fails too (the blob
//     is inconsistently encoded, or more than f nodes are faulty), the
//     connection is aborted: the client sees a short body, never a wrong one.
//   - Only results checked at least as strongly as Walrus's default
//     consistency check are cached, and a cached blob serves only requests
//     asking for no stronger check than it passed.
//
// # Quilt patches
//
// A patch is read from the columns (secondary slivers) that hold it, not
// from the whole quilt: each column comes from the node of its shard and
// is checked against the quilt's verified metadata before it is used. By
// identifier, the index's columns are read first (then cached with the
// metadata, per quilt); by patch ID, only the patch's columns. A column
// whose node is down, slow or lying is rebuilt from the other nodes'
// recovery symbols (each checked by its Merkle proof); if that fails too,
// the read falls back to the whole quilt, read like any blob (and cached).
// Recent patches stay in
// a memory LRU (an eighth of the memory cache). Patch responses carry
// X-Quilt-Patch-Identifier, allowed tags as headers, a strong ETag (the
// patch ID; Walrus's bare quilt ID is accepted in If-None-Match), ranges
// as for blobs; 404 QUILT_PATCH_NOT_FOUND for a patch not in the quilt or
// a blob that is not a quilt. Site serving reads patches through
// serveQuiltPatch and readQuiltPatch.
//
// # Cache
//
// Blob IDs name immutable content, so reconstructed blobs are kept in a
// memory LRU and a disk LRU, both bounded in bytes. Disk files are written
// under a temporary name and renamed; the SHA-256 of the content is part of
// the name and is checked the first time a process uses a file and whenever
// its size, times or inode change, so a damaged file is removed, never
// served. Hits are served with sendfile (disk) or straight from memory. The
// ledger's events remove deleted, invalidated and expired blobs; while the
// event follower is not caught up, cached blobs are re-checked with the
// ledger every few seconds.
//
// Overload: at most MaxConcurrentReads reconstructions run and
// MaxQueuedReads wait; requests for a blob being read join its
// reconstruction; beyond that, and beyond MaxConcurrentRequests, 429.
//
// What it is not: it holds no keys and writes nothing to the ledger or the
// nodes.
package aggregator
