// Package jobs keeps the publisher's jobs: one record per upload, from the
// body in a spool file to a certified blob, so that a publisher that
// restarts, or another publisher on the same database, takes over every
// unfinished upload and either finishes it from its spool file or fails it
// with a reason. Nothing is left half-done in silence.
//
// A Job holds the upload (size, spool path, options), its State (received,
// encoded, registered, distributing, certified, done, or failed with a
// reason), what each step produced (blob ID, Registration, Certificate, the
// client's Result), the progress per storage node, attempts, last error,
// timestamps, and the Lease of the publisher working on it.
//
// # Leases
//
// A publisher works on a job only while it holds the job's lease: from
// Create (with an owner) or Acquire, extended by Renew, ended by Release,
// by finishing the job, or by expiry. Acquire takes an unfinished job
// whose lease is free or expired, so the jobs of a publisher that died (it
// stopped renewing) go to the next publisher that asks; Expired lists them.
// Every Acquire issues a larger lease token, and every change presents the
// lease (owner and token), which the store checks in the same transaction
// that writes: a publisher that stalled past its lease is refused with a
// *LeaseError (ErrLeaseLost) even if it comes back under the same name.
//
// Invariants:
//   - At most one lease on a job is current at any time, across every
//     goroutine, process and machine sharing the database.
//   - Only the holder of the current, unexpired lease changes a job.
//   - States only move forward; done and failed are final, hold no lease and
//     are never acquired again; a failed job has a reason.
//   - A change is whole or absent: the job and its nodes are written in one
//     transaction.
//   - Lease times come from one clock: the Postgres server's
//     (clock_timestamp), or this machine's for SQLite.
//
// What the store does not do: it does not renew leases by itself (the holder
// runs a renew loop, every lease/3 say, and stops working on a job as soon
// as any call returns ErrLeaseLost or ErrFinished); it does not choose when
// to give up (Attempts and LastError are there for the publisher to Fail a
// job that keeps failing); it does not touch spool files, the chain or the
// storage nodes.
//
// # Backends
//
// Open picks PostgreSQL when Config.DatabaseURL is set and an embedded
// SQLite file at Config.Path otherwise. Both have the same schema (package
// migrations, applied at Open with golang-migrate) and the same rules,
// written once in Store; a backend only reads, locks and writes rows.
//
// PostgreSQL (pgx v5, pgxpool) is for publishers that share work: Acquire
// runs SELECT ... FOR UPDATE SKIP LOCKED in a transaction, so concurrent
// publishers each take a different job without queueing behind each other;
// every change locks the job's row (SELECT ... FOR UPDATE). golang-migrate
// holds an advisory lock while it migrates, so publishers may start together.
//
// The embedded store is SQLite through modernc.org/sqlite, chosen because:
//   - It is pure Go: no cgo, so the binary stays static and cross-compiles,
//     and `haulout devnet` needs no database set up.
//   - It is a transactional SQL database, like Postgres: the same schema,
//     constraints and migration tool (golang-migrate's sqlite driver is
//     built on modernc), the same rules, the same test suite. An embedded
//     key-value store (bbolt, pebble) would need the schema, indexes,
//     transactions over several records and the migrations written by hand.
//   - It gives the same guarantees on one machine. Each store writes through
//     one connection, in BEGIN IMMEDIATE transactions that take SQLite's
//     write lock before they read, so Acquire's read-then-update never
//     interleaves with another writer, in this process or another; WAL lets
//     reads (Get, List) run beside the writer; busy_timeout (10 s) makes
//     processes that share the file wait for the write lock rather than
//     fail; synchronous=FULL makes a commit durable when it returns, as
//     Postgres does by default. The first open and the migrations are
//     serialized between processes by a flock(2) on <file>.migrate-lock.
//
// Its limits: one machine (SQLite's locks do not hold over network file
// systems), and writes are serialized, which suits a publisher's few writes
// per upload and per node.
package jobs
