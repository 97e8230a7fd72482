// Package web is the pages a person uses to store and read blobs, in plain
// HTML, CSS and JavaScript (no toolkit, no build step beyond the codec),
// embedded in the binary and served by the aggregator at "/" (Handler,
// mounted through aggregator.Config.UI by `haulout aggregator` and
// `haulout devnet`). They load nothing from other sites.
//
//	/                      upload: pick or drop files
//	/ui/browse.html?id=ID  browse: a blob's status, expiry and contents; the blobs this browser stored
//	/ui/config.json        the publisher, ledger and aggregator URLs the pages use (from Config)
//	/ui/codec/...          the js/wasm codec (wasm/js) and its worker
//
// # Upload
//
// Every file is encoded in the page, in a Web Worker running package codec
// compiled to js/wasm, and its blob ID is shown before any byte leaves the
// machine (the shard count comes from the ledger's committee). Then either:
//
//   - through the publisher: one PUT /v1/blobs with XMLHttpRequest, whose
//     upload events drive the progress bar; the publisher's answer must name
//     the blob ID the page computed, or the page says so;
//   - directly, as Walrus's TypeScript SDK writeBlob does: the page registers
//     the blob on the ledger (POST /v1/blobs), writes the metadata and then
//     each node's slivers (the slivers of the pairs its shards hold, by the
//     blob's rotation) with a progress row per node, asks each node for its
//     signed storage confirmation, checks it (the message the page expects,
//     signed under the node's key in the committee), and once the confirming
//     nodes hold a quorum of shards, certifies the Blob object with the
//     aggregate certificate (POST /v1/objects/{id}/certify). A node's slivers
//     go in haulout's batch requests (PUT .../slivers, a Blob of the slivers'
//     own buffers, about 16 MiB each), one durable commit per chunk: at 1000
//     shards one PUT per sliver (Walrus's route) took 30 s for a 1.7 MiB file
//     on a devnet, fsyncs mostly, the batches 0.3 s. A node that answers the
//     batch route 404 or 405, as Walrus's nodes would, gets one PUT per
//     sliver, four in flight.
//
// Failures are said plainly (which service, its URL, its status and message)
// with a Retry button; a direct upload's retry keeps the encoding, the
// registration and the nodes that confirmed, and redoes the rest.
//
// # Certificates: aggregated in the page
//
// The ledger takes certificates as Walrus's contract does: signer indices,
// the one message they signed and the aggregate BLS signature, checked
// against the sum of the signers' keys (chain/certificate.go). The page could
// have sent the list of signed confirmations for the ledger to aggregate, but
// that would be a second certificate format that Walrus's chain does not
// have, and a ledger route that a real chain could not offer. So the
// aggregation happens in the browser, with package bls (and chain's
// confirmation message) compiled into the same js/wasm module as the codec:
// wasm/js's confirmationMessage, verifySignature and aggregateSignatures.
// That costs the module about 1 MiB (4.0 MB, 1.06 MiB gzipped). Storage
// nodes and the publisher already answer CORS; the ledger answers it for
// reads, registration and certification only (chain/ledgerhttp).
//
// # Browse
//
// A blob ID opens the blob's status (the ledger's Walrus-shaped BlobStatus)
// and expiry (the end epoch of its live Blob objects, as a date from the
// epoch schedule), and its bytes through the aggregator: shown in the page
// when the browser can display them (images, video, audio, text; the type
// is the uploaded file's for blobs stored from this browser, else sniffed
// from the first bytes), offered for download otherwise. The blobs this
// browser stored are listed from localStorage.
//
// # The codec files
//
// The binary embeds web/codec, which `go generate ./web` fills (run by
// `make build`): haulout.wasm built from wasm/js for GOOS=js with
// -trimpath -ldflags='-s -w', and wasm_exec.js (from the same toolchain),
// haulout.js and worker.js. They are not committed: a 4 MB binary that
// changes with every codec change does not belong in git, and `go build` of
// a fresh clone still works; its pages then say that the codec is missing.
// Tests build the module afresh and pass it as Config.Codec.
//
// # Figures
//
// BenchmarkChromiumCodec times haulout.wasm and Walrus's @mysten/walrus-wasm
// in one Web Worker of headless Chromium 148 on the same 16 MiB of random
// bytes, after a warm-up of both, alternating the two. Medians of 5 pairs,
// ms in the browser, on a shared 2-core machine at load 11 to 18 (noisy: an
// earlier run gave ratios of 0.58, 0.82, 0.63 and 0.98):
//
//	shards  op      walrus   haulout  haulout/walrus (median of pairs)
//	1000    blobId    5573      3902    0.76
//	1000    encode    8422      5768    0.66
//	100     blobId    2190      1024    0.47
//	100     encode    1355      1075    0.81
//
//	go test ./web -run '^$' -bench ChromiumCodec -benchtime 5x
//
// End to end on `haulout devnet` (7 nodes, 1000 shards), a 1.7 MiB file
// stored directly from the page takes 4 to 7 s, 3.4 s of it encoding in the
// browser.
//
// # Tests
//
// The tests start a whole network in the test process (a local ledger served
// over HTTP, storage nodes, a publisher with an SQLite job store, an
// aggregator serving these pages) and drive Debian's Chromium through
// internal/browsertest: an upload in each mode, read back through the
// aggregator byte for byte, the blob ID the page showed equal to
// codec.ComputeBlobID's (what `haulout blob-id` prints), the browse page,
// and an unreachable publisher shown as an error with Retry. Screenshots of
// each page go to $HAULOUT_SCREENSHOTS (or the test's temporary directory).
package web
