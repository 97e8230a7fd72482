package chain

import "errors"

// Errors every backend returns, wrapped with context (test with errors.Is).
// Each has a stable reason code (Reason) so that transports can carry it and
// give the same sentinel back on the other side (ErrorForReason).
var (
	// ErrBlobNotFound: no Blob object with that object ID.
	ErrBlobNotFound = errors.New("blob object not found")
	// ErrNotRegistered: the Blob object was deleted; it is no longer
	// registered and cannot be changed.
	ErrNotRegistered = errors.New("blob object is not registered")
	// ErrExpired: the Blob object's end epoch has passed.
	ErrExpired = errors.New("blob object has expired")
	// ErrAlreadyCertified: the Blob object is already certified.
	ErrAlreadyCertified = errors.New("blob object is already certified")
	// ErrNotCertified: the operation (extension) needs a certified blob.
	ErrNotCertified = errors.New("blob object is not certified")
	// ErrNotDeletable: the Blob object is permanent.
	ErrNotDeletable = errors.New("blob object is not deletable")
	// ErrInsufficientSigners: the signers of a certificate hold too few shards.
	ErrInsufficientSigners = errors.New("signers hold too few shards")
	// ErrInvalidSigners: a certificate names a signer twice or an index
	// outside the committee.
	ErrInvalidSigners = errors.New("invalid signer indices")
	// ErrInvalidSignature: an (aggregate) signature does not verify.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrInvalidMessage: a signed message is malformed, has the wrong intent,
	// or is about another blob, object or persistence type.
	ErrInvalidMessage = errors.New("invalid message")
	// ErrEpochMismatch: a signed message was made in another epoch than the
	// current one (collect new confirmations after an epoch change).
	ErrEpochMismatch = errors.New("message epoch is not the current epoch")
	// ErrInvalidEpochs: an end epoch or extension is not in the future or
	// too far ahead, or an epoch is unknown.
	ErrInvalidEpochs = errors.New("invalid epochs")
	// ErrInvalidEncoding: the encoding type is not RS2.
	ErrInvalidEncoding = errors.New("unsupported encoding type")
	// ErrInvalidSize: the encoded size is below what the blob needs, or the
	// blob is too large for the committee.
	ErrInvalidSize = errors.New("invalid blob size")
	// ErrInvalidBlobID: the blob ID does not commit to the root hash, size
	// and encoding type given with it.
	ErrInvalidBlobID = errors.New("blob ID does not match its root hash, size and encoding")
	// ErrAttributeNotFound: the attribute key is not set on the Blob object.
	ErrAttributeNotFound = errors.New("attribute not found")
	// ErrInvalidCommittee: a committee is malformed (shards, keys, IDs) or a
	// node's proof of possession does not verify.
	ErrInvalidCommittee = errors.New("invalid committee")
	// ErrInvalidArgument: a request is malformed in another way.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrClosed: the backend is closed or shutting down.
	ErrClosed = errors.New("chain backend is closed")
)

var reasons = []struct {
	err    error
	reason string
}{
	{ErrBlobNotFound, "BLOB_NOT_FOUND"},
	{ErrNotRegistered, "NOT_REGISTERED"},
	{ErrExpired, "EXPIRED"},
	{ErrAlreadyCertified, "ALREADY_CERTIFIED"},
	{ErrNotCertified, "NOT_CERTIFIED"},
	{ErrNotDeletable, "NOT_DELETABLE"},
	{ErrInsufficientSigners, "INSUFFICIENT_SIGNERS"},
	{ErrInvalidSigners, "INVALID_SIGNERS"},
	{ErrInvalidSignature, "INVALID_SIGNATURE"},
	{ErrInvalidMessage, "INVALID_MESSAGE"},
	{ErrEpochMismatch, "EPOCH_MISMATCH"},
	{ErrInvalidEpochs, "INVALID_EPOCHS"},
	{ErrInvalidEncoding, "UNSUPPORTED_ENCODING_TYPE"},
	{ErrInvalidSize, "INVALID_SIZE"},
	{ErrInvalidBlobID, "INVALID_BLOB_ID"},
	{ErrAttributeNotFound, "ATTRIBUTE_NOT_FOUND"},
	{ErrInvalidCommittee, "INVALID_COMMITTEE"},
	{ErrInvalidArgument, "INVALID_ARGUMENT"},
	{ErrClosed, "UNAVAILABLE"},
}

// Reason returns the reason code of the first sentinel in err's chain, or ""
// when err wraps none of them.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ""
}

// ErrorForReason returns the sentinel with the given reason code, or nil.
func ErrorForReason(reason string) error {
	for _, r := range reasons {
		if r.reason == reason {
			return r.err
		}
	}
	return nil
}
