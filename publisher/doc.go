// Package publisher is haulout's publisher: Walrus's publisher HTTP API
// (PUT /v1/blobs, PUT /v1/quilts, /status, /v1/api) in front of a job
// pipeline that encodes each upload, registers it on the ledger, spreads its
// metadata and slivers over the committee's storage nodes, collects their
// signed storage confirmations and certifies the blob with the aggregate
// certificate.
//
// # One upload
//
// The request body is streamed to a spool file while it is counted, so that
// a request holds a fixed buffer however large the blob. The spool file is
// made durable and only then becomes a job (package publisher/jobs), leased to
// this publisher. The job then moves through the states of jobs.State, and
// every step is recorded before the next begins: encoded (blob ID), registered
// (the Blob object), distributing (per node progress), certified (the
// certificate and the client's answer), done. The client gets its answer at
// certification; nodes that are slow keep receiving their slivers in the
// background until they hold them or are given up on, and the job says which.
// Beyond Walrus, ?wait=false answers 202 with the job's ID at once and
// GET /v1/jobs/{id} reports its state and progress.
//
// # Crash safety
//
// A job is held under a lease that its publisher renews. When a publisher
// dies, its jobs' leases run out and any publisher sharing the job store
// (itself after a restart, at once, since it releases the leases of its own
// previous run) takes them over and finishes them from their spool files:
// re-encoding gives the same slivers, a recorded registration is reused,
// nodes that already hold their slivers are only asked for confirmations
// again. A job that cannot be finished (spool file gone or changed,
// registration expired, a quorum out of reach) is marked failed with the
// reason. A spool file is removed when its job is finished; spool files that
// belong to no unfinished job are removed at start.
//
// # Memory
//
// Receiving costs a fixed buffer per request. A blob up to StreamThreshold
// (64 MiB by default) and every quilt is encoded in memory
// (codec.Config.Encode: the slivers are about 4.5 times the blob at 1000
// shards), read from the spool file through a read-only memory map (page
// cache, not heap). Its slivers stay in memory while it is distributed;
// once it is certified, only the slivers of the nodes not yet served are
// kept (copied out of the codec's shared arrays, which then go), and each
// node's go when it is served or given up on, the budget given back as
// they go: a 32 MiB blob at 1000 shards holds 145 MiB of slivers, and 21
// MiB after certification with one node of 143 shards still to serve
// (BenchmarkKeepOnlySlowNode).
// A larger blob is encoded by codec.StreamEncoder from the spool file in
// two passes into a sliver file beside it (<job ID>.slivers, laid out by
// codec.SliverLayout), holding only bounded block buffers and the n^2 leaf
// hashes (about 130 MiB at 1000 shards); each batch sent to a node is then
// read from that file, and the file is removed as soon as the last node
// has been served or given up on (a crash leaves it to the spool sweep).
// Encodings take their estimated memory from one budget (EncodeMemory), the
// batches read from sliver files from another (SendMemory), so that the
// publisher's memory is bounded by the two whatever the blob size.
// Measured (BenchmarkPeakMemory1GiB, 1000 shards, 7 nodes on the same
// machine): a 1 GiB upload peaks at 203 MiB of heap (211 MiB of anonymous
// resident memory, no spool pages mapped) and is answered in 35 s with the
// streaming encoder, against 4.6 GiB of heap plus 1 GiB of the spool
// file's pages and 66 s in memory; a 256 MiB one at 254 MiB, against
// 1.2 GiB.
//
// # Confirmations
//
// Every node's confirmation must be its signature, under its key in the
// committee, over exactly the confirmation asked for (epoch, blob ID,
// persistence). The signatures that may make a quorum are checked together:
// their aggregate against the sum of the keys, one pairing check (sound
// because the committee's keys come with proofs of possession); only if that
// fails are they checked one by one, and the nodes whose signatures fail are
// given up on as liars. A confirmation in another epoch is asked for again;
// when the ledger refuses the certificate because the epoch moved on,
// confirmations are collected again from the new committee.
//
// # What it is not
//
// It holds no wallet: on the local ledger Blob objects have no owner, so
// send_object_to is checked and recorded but transfers nothing, and share
// reports the Blob object itself as the shared object. Blob objects are
// always registered from scratch: reuse_resources is recorded, not acted on.
// Costs are computed
// from Config.StoragePrice and Config.WritePrice, zero by default, as the
// local ledger charges nothing.
package publisher
