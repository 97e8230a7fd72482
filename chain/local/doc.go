// Package local is the embedded coordination ledger: Walrus's on-chain rules
// (epochs and committees, blob registration, certification by a quorum
// certificate, deletion, extension, attributes, invalid blob IDs, the event
// stream) kept by one process in one append-only file.
//
// It serves one machine or one operator. Whoever runs it is trusted to run
// it: it has no accounts, no payments and no consensus, and the ledger file
// is the whole truth. It applies the same checks as Walrus's contracts (every
// certificate must carry a quorum of shard weight and an aggregate signature
// that verifies against the summed keys of committee members who proved
// possession of their keys), so services built on it behave as they will on
// Sui, which is the decentralised backend (its own package, its own issue).
// Other processes reach a ledger through chain/ledgerhttp, whose client has
// the same method set as *Ledger.
//
// Durability: every change is appended to the log as one record (length,
// CRC32C, JSON payload) and fsynced before the call returns, then applied in
// memory. Open replays the log. A torn or corrupt record at the end of the log
// (a crash during a write) is detected, logged, truncated away and dropped;
// damage followed by intact records is refused rather than silently cut.
// One process opens a log at a time (an exclusive file lock).
//
// Epochs advance on demand (AdvanceEpoch) and, when EpochDuration is set, on
// time: an epoch lasts at least EpochDuration. After downtime the ledger
// advances one epoch, not one per elapsed period, so that a stopped devnet
// does not wake up with every blob expired.
//
// The whole state, including every event, is held in memory; the ledger is
// sized for devnets and single-operator deployments, not for mainnet volumes.
package local
