// Package devnet runs a whole haulout network on one machine: the ledger,
// N storage nodes, the publisher and the aggregator, each its own process
// (so that a test or a person can kill one), all from the same haulout
// binary, with data under one directory.
//
// The first start creates the directory: a state file (devnet.json) with
// the shard count, the ports and node identities, one BLS key seed per node,
// and the genesis committee. Later starts on the same directory reuse all of
// it, so every blob stored before is found again. The devnet is for
// development and tests on one machine: the ledger is the embedded one and
// nothing is authenticated.
package devnet
