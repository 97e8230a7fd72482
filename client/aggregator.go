package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// Aggregator is an aggregator's HTTP API at URL.
type Aggregator struct {
	// URL is the aggregator's root, e.g. http://127.0.0.1:31415.
	URL string
	// HTTP sends the requests (default http.DefaultClient).
	HTTP *http.Client
}

// Blob is a blob being read: its body streams from the aggregator.
type Blob struct {
	// Body is the blob's bytes (or the asked range); the caller closes it.
	Body io.ReadCloser
	// Size is the length of Body, -1 if the aggregator did not say.
	Size int64
	// Header is the answer's headers: Content-Type, ETag, and for a read
	// by object ID the Blob object's attributes.
	Header http.Header
}

// Read reads from Body.
func (b *Blob) Read(p []byte) (int, error) { return b.Body.Read(p) }

// Close closes Body.
func (b *Blob) Close() error { return b.Body.Close() }

func (a *Aggregator) client() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return http.DefaultClient
}

// Open starts reading blob id; the caller closes the Blob. An unknown or
// unavailable blob is an *APIError (404 for one that is not stored).
func (a *Aggregator) Open(ctx context.Context, id codec.BlobID) (*Blob, error) {
	return a.open(ctx, "/v1/blobs/"+id.String(), nil)
}

// OpenRange starts reading length bytes of blob id from offset start
// (Walrus's byte-range endpoint).
func (a *Aggregator) OpenRange(ctx context.Context, id codec.BlobID, start, length int64) (*Blob, error) {
	if start < 0 || length <= 0 {
		return nil, fmt.Errorf("aggregator: bad byte range %d+%d", start, length)
	}
	q := url.Values{"start": {strconv.FormatInt(start, 10)}, "length": {strconv.FormatInt(length, 10)}}
	return a.open(ctx, "/v1/blobs/"+id.String()+"/byte-range", q)
}

// OpenObject starts reading the blob of Blob object oid; its attributes
// come as headers.
func (a *Aggregator) OpenObject(ctx context.Context, oid chain.ObjectID) (*Blob, error) {
	return a.open(ctx, "/v1/blobs/by-object-id/"+oid.String(), nil)
}

// ReadBlob writes blob id to w as it arrives, and fails if the answer ends
// short of the size the aggregator announced.
func (a *Aggregator) ReadBlob(ctx context.Context, id codec.BlobID, w io.Writer) error {
	b, err := a.Open(ctx, id)
	if err != nil {
		return err
	}
	defer b.Close()
	return b.copyTo(w, id)
}

// copyTo copies the whole body to w, checking its length.
func (b *Blob) copyTo(w io.Writer, id codec.BlobID) error {
	n, err := io.Copy(w, b.Body)
	if err != nil {
		return fmt.Errorf("aggregator: read blob %s: %w", id, err)
	}
	if b.Size >= 0 && n != b.Size {
		return fmt.Errorf("aggregator: read blob %s: got %d of %d bytes", id, n, b.Size)
	}
	return nil
}

func (a *Aggregator) open(ctx context.Context, path string, q url.Values) (*Blob, error) {
	u := strings.TrimSuffix(a.URL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("aggregator: %w", err)
	}
	resp, err := a.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("aggregator %s: GET %s: %w", a.URL, path, transportError(err))
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		defer resp.Body.Close()
		return nil, fmt.Errorf("aggregator: GET %s: %w", path, apiError(resp))
	}
	return &Blob{Body: resp.Body, Size: resp.ContentLength, Header: resp.Header}, nil
}
