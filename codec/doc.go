// Package codec is haulout's RedStuff ("RS2") erasure code: byte for byte the
// encoding that Walrus uses, so that blob IDs, sliver hashes, metadata and the
// BCS forms of slivers equal those made by Walrus's own encoder (the tests
// compare with @mysten/walrus-wasm through golden vectors and, where Node is
// installed, on fresh random inputs).
//
// A blob of n bytes for a committee of nShards shards is laid out as a
// k1 x k2 matrix of symbols (k1 = nShards-2f primary source symbols, k2 =
// nShards-f secondary source symbols, f = (nShards-1)/3). Rows are primary
// slivers, columns secondary slivers; both are extended with Reed-Solomon
// codes over GF(2^16) to nShards slivers of each kind. Every sliver is
// committed to by a Merkle root over all nShards symbols of its expanded
// line, and the blob ID commits to all the roots.
//
// # Reed-Solomon
//
// Walrus computes its Reed-Solomon symbols with reed-solomon-simd's
// Leopard-style additive FFT, which picks one of two algorithms per (source,
// recovery) count, and the two give different symbols. klauspost/reedsolomon
// (WithLeopardGF16) reproduces only the "high rate" one, while Walrus's
// primary expansion (n-2f sources, 2f recovery) takes the "low rate" path for
// almost every n. So the package carries its own GF(2^16) FFT code for both
// (gf16.go, fft.go, rs.go), with AVX2 kernels on amd64 and portable Go
// elsewhere (the purego build tag forces the latter). One code path for both
// rates also lets a whole batch of symbols be coded as one long shard
// (pack.go), which keeps the FFTs long and fast. klauspost/reedsolomon
// remains the baseline of the benchmarks.
//
// # Hashing
//
// At nShards shards every blob, however small, needs about 3*nShards^2
// Blake2b-256 hashes (a leaf per symbol of the nShards x nShards expanded
// matrix and the Merkle trees over rows and columns). One-block hashes are
// computed four at a time with AVX2 (blake4_amd64.s).
//
// # Memory
//
// Encode needs the blob plus its slivers (n/k1 + n/k2 times the blob, 4.5x
// at 1000 shards) plus n^2*32 bytes of leaf hashes and per-core work areas;
// for a 256 MiB blob at 1000 shards the peak heap is 1.04x blob+slivers
// (BenchmarkEncode reports it). ComputeMetadata keeps no slivers: about 1.5x
// the blob.
//
// StreamEncoder (stream.go) gives the same slivers and metadata for a blob
// read through an io.ReaderAt, writing the slivers to a SliverFile (an
// *os.File serves) in the layout of SliverLayout, in two passes over
// blocks of rows and groups of columns. It holds the n^2 leaf hashes and
// its block buffers (BufferBytes, 64 MiB by default) whatever the blob
// size, and does no I/O but through the interfaces it is given.
//
// # Guarantees
//
// The package does no I/O and imports nothing of haulout's; it builds for
// linux, GOOS=js and GOOS=wasip1. Decoding never returns wrong bytes: it
// returns the blob or a typed error (ErrNotEnoughSlivers,
// ErrInconsistentEncoding, ...). Parsers of untrusted BCS refuse anything
// non-canonical (ErrBCS) and are fuzzed.
package codec
