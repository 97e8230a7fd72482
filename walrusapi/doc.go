// Package walrusapi holds the JSON shapes of what a Walrus publisher
// answers to a store (PUT /v1/blobs): BlobStoreResult and its variants,
// newlyCreated with the Blob object and alreadyCertified, in the camelCase
// field names Walrus sends (not the snake_case of its checked-in OpenAPI
// file), and to a quilt store (PUT /v1/quilts): QuiltStoreResult with its
// storedQuiltBlobs patch IDs. haulout's publisher writes them and package client reads them,
// from haulout's publisher or Walrus's, so that both agree on the wire by
// construction.
//
// What it is not: no HTTP, no ledger access. The decision of what stores
// a blob already is chain.FindCertified; AlreadyCertifiedOf only shapes
// its answer.
package walrusapi
