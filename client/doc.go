// Package client is the Go client of a haulout (or Walrus) network, the
// library under the `haulout` client commands.
//
// Publisher stores blobs through a publisher's PUT /v1/blobs, streaming the
// body from an io.Reader with the query parameters of Walrus's publisher;
// Aggregator reads them back through an aggregator's GET /v1/blobs/{id},
// streaming into an io.Writer. Both speak plain HTTP: they work against
// Walrus's own publisher and aggregator as well as haulout's. The haulout
// extensions (upload jobs that survive a publisher restart) are separate
// methods that a Walrus daemon answers with 404.
//
// Direct stores blobs without a publisher: it encodes them locally and
// talks to the storage nodes and the ledger itself, as a publisher would.
// Ledger holds the calls that only the ledger answers: blob status, delete,
// extend, system info and the list of Blob objects.
//
// Errors from a service are *APIError values carrying the HTTP status and,
// when the service sent Walrus's JSON error envelope, its status, reason and
// domain; transport errors are returned wrapped as they come. Nothing here
// retries a request whose body was already sent: an upload is not
// idempotent on the ledger, and the caller knows better whether to retry.
package client
