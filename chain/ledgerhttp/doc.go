// Package ledgerhttp serves a chain backend (in practice the local ledger of
// chain/local) over HTTP with JSON bodies, and is the client of that API.
// When haulout's services run as separate processes, one of them opens the
// ledger and serves it (Server); the others use a Client, which has the same
// method set as *local.Ledger, so code written against a small interface of
// those methods works with either.
//
// Errors cross the wire in Walrus's error envelope (status, code, message,
// details[ErrorInfo{reason, domain "ledger.haulout"}]) with the reason codes
// of package chain; the client turns them back into the same sentinel
// errors, so errors.Is(err, chain.ErrExpired) holds on both sides.
//
// Events are served by long poll: GET /v1/events?from=N&limit=M&wait=MS
// answers as soon as an event at or after cursor N exists, or with an empty
// list after wait milliseconds (capped by Server.MaxWait); Client.WaitEvents
// polls until it gets events or its context ends.
//
// The API has no authentication: like the ledger, it serves one operator.
// Bind it to loopback or a private network.
//
// Routes:
//
//	GET    /status                              liveness, "OK"
//	GET    /v1/system                           chain.SystemInfo
//	GET    /v1/epoch                            {"epoch": N}
//	POST   /v1/epoch/advance                    {"epoch": N}
//	GET    /v1/committee                        current chain.Committee
//	GET    /v1/committee/{epoch}                chain.Committee
//	PUT    /v1/committee/next                   []chain.NodeRegistration -> chain.Committee
//	POST   /v1/blobs                            chain.RegisterRequest -> 201 chain.BlobRecord
//	GET    /v1/blobs/{blobId}/status            chain.BlobStatus (Walrus's JSON)
//	GET    /v1/blobs/{blobId}/objects           []chain.BlobRecord
//	POST   /v1/invalid-blob-ids                 chain.Certificate -> chain.Event
//	GET    /v1/objects/{objectId}               chain.BlobRecord
//	DELETE /v1/objects/{objectId}               chain.BlobRecord
//	POST   /v1/objects/{objectId}/certify       chain.Certificate -> chain.BlobRecord
//	POST   /v1/objects/{objectId}/extend        {"epochs": N} -> chain.BlobRecord
//	POST   /v1/objects/{objectId}/attributes    {"key", "value"} -> 204
//	POST   /v1/objects/{objectId}/attributes/remove  {"key"} -> 204
//	GET    /v1/events?from=N&limit=M&wait=MS    []chain.Event
//
// CORS: pages of any origin may use the GET routes, POST /v1/blobs and
// POST /v1/objects/{objectId}/certify (what anyone may do on Walrus's
// chain; web/ uploads directly with them); the other routes answer them
// without CORS headers.
package ledgerhttp
