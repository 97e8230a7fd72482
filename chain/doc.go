// Package chain holds the vocabulary of coordination: what Walrus keeps on Sui
// and what every haulout service agrees on. Epochs; the committee of each
// epoch (storage nodes, their BLS keys and shards) with its fault thresholds;
// Blob objects (registered, certified, extended, deleted) and the aggregated
// status of a blob ID in the JSON shape of Walrus's storage nodes; the signed
// messages about blobs (storage confirmations, invalid-blob-ID attestations)
// and the quorum certificates made of them; the ordered events that nodes
// follow; and the typed errors that every backend returns.
//
// The keys, signatures, the ProtocolMessage envelope and the proof of
// possession live in package bls; the contents of blob messages live here,
// next to the rules that check them.
//
// What it is not: there is no interface for "the chain" in this package.
// Consumers declare the small interface they need (a storage node needs
// Events and Committee, a publisher Register and Certify) and any backend
// with those methods serves: the embedded ledger in chain/local, its HTTP
// client in chain/ledgerhttp (the same method set, errors.Is works across the
// wire), and later Sui. Every such method takes a context.Context first.
//
// Invariants and conventions, all Walrus's:
//   - f = (n_shards-1)/3 shards may be faulty; a quorum is n_shards-f shards
//     (equal to the contract's 3w >= 2n+1); the validity threshold is f+1
//     shards (Walrus's client; its contract asks 3w >= n+1 for invalid-blob
//     certificates, which is f+2 when n_shards = 3f+3).
//   - A Blob object lives in epochs [RegisteredEpoch, EndEpoch): it is
//     expired once the current epoch reaches EndEpoch.
//   - A certificate is a list of committee node indices, one BCS message and
//     the aggregate of their signatures over it; its weight is the number of
//     shards the signers hold.
//   - Object IDs are written 0x + 64 lowercase hex digits; transaction
//     digests in base58; event sequence numbers as decimal strings in JSON.
package chain
