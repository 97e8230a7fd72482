// Package bls is haulout's BLS12-381 signature scheme, the one Walrus uses for
// storage confirmations, certificates and proofs of possession: fastcrypto's
// bls12381::min_pk, i.e. public keys in G1 (48-byte compressed points),
// signatures in G2 (96-byte compressed points), hash-to-curve with the DST
// BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_. It wraps
// github.com/cloudflare/circl/sign/bls (KeyG1SigG2), whose keys and signatures
// interoperate with Walrus byte for byte.
//
// The package also holds the envelope of Walrus's signed messages, the
// ProtocolMessage: intent {type u8, version u8 = 0, app_id u8 = 3} || epoch
// u32 LE || contents, and the one message that is about keys rather than
// blobs: the proof of possession (intent type 0 over epoch, Sui address and
// public key). The contents of blob messages (storage confirmations, invalid
// blob IDs) live in package chain, next to the rules that check them.
//
// Invariants:
//   - A PublicKey or Signature value is only bytes; it is checked to be a
//     valid point of the right subgroup whenever it is used (Verify,
//     Aggregate, ParsePublicKey), never trusted.
//   - Certificates are many signatures over ONE message. Verifying them sums
//     the signers' public keys in G1 and checks the aggregate signature
//     against that sum (VerifyAggregate). This is sound only when every key
//     comes with a proof of possession, so whoever admits keys into a
//     committee must check one (VerifyProofOfPossession); the ledger does.
//
// What it is not: a general BLS library. There is no min-sig variant, no
// message augmentation, and no multi-message aggregate verification.
package bls
