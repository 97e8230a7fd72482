// Package codec is haulout's RedStuff ("RS2") erasure code: byte for byte the
// encoding that Walrus uses, so that blob IDs, sliver hashes, metadata and the
// BCS forms of slivers equal those made by Walrus's own encoder.
//
// A blob of n bytes for a committee of nShards shards is laid out as a
// k1 x k2 matrix of symbols (k1 = nShards-2f primary source symbols, k2 =
// nShards-f secondary source symbols, f = (nShards-1)/3). Rows are primary
// slivers, columns secondary slivers; both are extended with Reed-Solomon
// codes over GF(2^16) to nShards slivers of each kind. Every sliver is
// committed to by a Merkle root, and the blob ID commits to all of them.
//
// The package does no I/O and imports nothing of haulout's; it builds for
// linux, GOOS=js and GOOS=wasip1. Decoding never returns wrong bytes: it
// returns the blob or a typed error.
package codec
