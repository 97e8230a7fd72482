// Package apierr is the one place where haulout's HTTP services turn errors
// into Walrus's JSON error envelope (AIP-193 style) and where clients turn
// the envelope back into errors:
//
//	{"error": {"status": "NOT_FOUND", "code": 404, "message": "...",
//	  "details": [{"@type": "ErrorInfo", "reason": "BLOB_NOT_FOUND",
//	               "domain": "daemon.walrus.space", "metadata": {}}]}}
//
// Only the status/code pairs Walrus uses exist. Handlers return *Error
// values (or wrap them); anything else becomes INTERNAL_ERROR in the global
// domain with a trace ID that is also logged, so that no internal detail
// leaks to clients.
package apierr
