// Package chaintest helps test code that uses a chain backend: a network of
// deterministic node keys and genesis registrations, certificates signed by
// any subset of a committee, valid registration requests, and Run, the
// conformance suite that every backend (the local ledger, its HTTP client,
// later Sui) must pass with the same results, so that errors.Is and the
// rules hold whichever backend serves.
//
// It is for tests only: its keys are derived from public seeds.
package chaintest
