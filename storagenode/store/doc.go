// Package store is the durable store under a storage node: for each blob its
// metadata (BCS bytes), its slivers keyed by (blob ID, pair index, axis), and
// an opaque per-blob record that the node defines ("blob info"); plus named,
// opaque cursors for the ledger's event stream.
//
// It is not the node's logic: it does not verify slivers against metadata,
// interpret blob info, or decide what expires. It stores bytes, durably.
//
// # Invariants
//
//   - Durable on return: when a write (Put*, SetCursor, DeleteBlob,
//     Batch.Commit) returns nil, it is fsynced and survives kill -9 and power
//     loss. A storage node may sign a confirmation as soon as Commit returns.
//   - Nothing torn: after a crash each value is either the one written or
//     absent. A Batch of at most Options.CommitBytes is atomic; a larger one
//     is a sequence of atomic commits, so a crash leaves a prefix of it.
//     TestCrash kills a writer with SIGKILL mid-batch, reopens and checks
//     both, six times over.
//   - Concurrency: any number of readers and writers; a read sees either the
//     old or the new value. Close waits for calls in progress; later calls
//     return ErrClosed.
//   - Deletion: DeleteBlob removes metadata, info and every sliver of a blob
//     in one atomic commit; the disk space comes back within
//     Options.ReclaimDelay (see Reclaim and "Space" below).
//
// # Engine
//
// The store is pebble v2 (CockroachDB's RocksDB-compatible LSM) with value
// separation: values of 4 KiB and more (slivers, most metadata) are written
// to blob files that compactions do not rewrite, only reference — the Go
// counterpart of the RocksDB BlobDB that Walrus's own nodes use. Every commit
// is pebble.Sync. Key layout is in keys.go: all slivers of a blob are
// adjacent, so listing them is one short scan and deleting them one range
// tombstone.
//
// The choice was made by measurement (store_bench_test.go, which keeps all
// candidates): pebble v2.1.7, badger v4.9.6 and bbolt v1.5.0 with fsync on
// (pebble.Sync, badger SyncWrites, bbolt default), plain files (write to a
// temporary name, fsync, rename, fsync the directory once per commit;
// "filespar" writes and fsyncs the files of a commit concurrently) as the
// baseline, and "store", this package's API over pebble. Medians of six runs
// (go test -bench 'Put|Get' -count 2, three interleaved invocations), MiB/s,
// on a shared 2-core VM with ext4 on a virtual disk whose own fsynced
// sequential throughput ranged from 200 to 900 MB/s during the session, so
// spreads were wide (±30-100%) and only differences of about 2x mean
// anything:
//
//	put (durable)  64K×1  64K×10  64K×10×4  1M×1  1M×10  1M×10×4  4M×1  4M×10  4M×10×4 | get  64K    1M    4M
//	pebble            40     109       117    71     96       98    90     77       94 |      921  1815  1111
//	store             37     116        94    78     86       99    88    103      106 |      811  1762  1518
//	badger            21      90        96    92    160      207   140    154      211 |     3530  6062  8145
//	bbolt             17      74        75    53    152      187    87    158      226 |     5445  5997  4586
//	files             20      18        31    93    116      167   199    199      211 |     1548  2647  5481
//	filespar          17      23        34   134     99      152   252    217      423 |     1791  4886  5979
//
// (64K×10×4: commits of ten 64 KiB values from four goroutines at once. Get:
// one read of a value copied once into a caller buffer, from a 128 MiB data
// set in the page cache.)
//
// Space after writing 64 blobs of four 1 MiB values (256 MiB), deleting
// three blobs in four and running each engine's reclamation, in MiB
// allocated on disk (BenchmarkReclaim, three runs, identical):
//
//	            written  after delete  after reclaim  of which fixed WAL  live
//	pebble        364        370           205              141            64
//	badger        256        256           256                -            64
//	bbolt         385        385           385                -            64
//	files         256         64            64                -            64
//
// Why pebble:
//
//   - It is the only engine that is good at the small values that make up
//     most of a node's writes (at 1000 shards a 10 MiB blob has 15-30 KiB
//     slivers, and one batch carries all of a node's slivers of a blob): one
//     WAL fsync per commit, 5x plain files at 64 KiB×10, ahead of badger and
//     bbolt.
//   - It gives deleted space back by itself. Badger reclaimed nothing: its
//     value log is garbage-collected only from discard statistics that LSM
//     compactions produce, a file at a time, never the active one, and by
//     rewriting the live rest. Bbolt reuses freed pages but its file never
//     shrinks (only an offline copy does); in the first comparison run its
//     4 MiB×10 commits also fell to 22-39 MiB/s in three of five samples.
//   - Crash safety is the engine's (checksummed WAL, replay on open), shared
//     with CockroachDB's production use, not code of ours.
//
// What it costs: pebble writes each value twice (WAL, then the blob file at
// flush), so for values of 1 MiB and more it writes at roughly half the rate
// of the others here. Sustained, 1 GiB as 100 commits of ten 1 MiB values,
// three runs, MB/s: pebble 125-166, store 105-160, badger 201-290, bbolt
// 238-268, plain files 121-148 (fsyncs in parallel: 176-283). Plain files
// plus a small index would win on large slivers but lose 5x on small ones,
// would need a crash protocol of our own (orphan sweep, directory fsyncs)
// and would put hundreds of files per blob on the file system (a node
// holding 100 of 1000 shards stores 200 slivers per blob). Reads copy the
// value out of pebble's buffer once; at 0.8-1.8 GiB/s from one goroutine
// they stay well above what a node serves over the network, and ViewSliver
// hands that buffer to the caller without a second copy.
//
// Recovery: reopening after SIGKILL, with 8 MiB memtables and a few hundred
// MiB stored, took 0.1-1 s (TestCrash logs it); WAL replay is bounded by
// the memtable size, not the store's.
//
// # Space
//
// The write-ahead log keeps about four files of 1.1×Options.MemTableSize
// allocated for reuse (141 MiB at the default 32 MiB): a fixed cost, not
// growth. Deleted slivers are freed once their tombstones are flushed and
// compacted; the store does that ReclaimDelay after a deletion, and Reclaim
// does it at once. A blob file shared by a deleted and a live blob is
// rewritten without the dead values once a fifth of it is garbage and it is
// five minutes old, so at most about 20% of blob-file bytes are garbage in
// the steady state (Usage.GarbageBytes).
package store
