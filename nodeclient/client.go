package nodeclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/haulout/haulout/internal/apierr"
)

// Limits on response bodies.
const (
	// DefaultMaxBodySize bounds binary responses (a sliver, a list of
	// recovery symbols): the store's limit on one sliver (64 MiB) and room
	// for framing.
	DefaultMaxBodySize = 64<<20 + 4096
	// maxMetadataSize bounds a BlobMetadataWithId: 65,535 pairs of two
	// 33-byte nodes, the ID and the header.
	maxMetadataSize = 65535*66 + 64
	// maxJSONSize bounds JSON responses.
	maxJSONSize = 1 << 20
	// maxErrorSize bounds error bodies.
	maxErrorSize = 64 << 10
)

// ErrResponseTooLarge reports a response body beyond the client's limit.
var ErrResponseTooLarge = errors.New("nodeclient: response body too large")

// Client talks to one storage node. It is safe for concurrent use; clients
// of many nodes should share one *http.Client (WithHTTPClient), which keeps
// the connections.
type Client struct {
	base    string
	hc      *http.Client
	maxBody int64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends requests with hc instead of a client of the
// client's own (NewHTTPClient with default TransportOptions). Share one
// among the clients of a committee's nodes.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithMaxBodySize bounds binary response bodies (default
// DefaultMaxBodySize).
func WithMaxBodySize(n int64) Option { return func(c *Client) { c.maxBody = n } }

// New returns a client of the node whose REST API is at baseURL (http or
// https, as a committee's NodeInfo.RESTURL).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("nodeclient: node URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("nodeclient: node URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: strings.TrimSuffix(u.String(), "/"), maxBody: DefaultMaxBodySize}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = NewHTTPClient(TransportOptions{})
	}
	return c, nil
}

// URL returns the node's base URL.
func (c *Client) URL() string { return c.base }

// TransportOptions configures NewHTTPClient.
type TransportOptions struct {
	// TLSConfig is used for https nodes: set RootCAs to trust nodes'
	// self-signed certificates. Nil: the system's roots.
	TLSConfig *tls.Config
	// H2C speaks HTTP/2 with prior knowledge to http:// nodes instead of
	// HTTP/1.1. haulout nodes accept both; HTTP/1.1 spreads concurrent
	// large uploads over several connections and is the default.
	H2C bool
	// MaxConnsPerHost bounds connections per node (0: no bound).
	MaxConnsPerHost int
}

// NewHTTPClient returns an HTTP client for storage nodes: HTTP/2 (ALPN h2)
// or HTTP/1.1 over TLS, HTTP/1.1 or h2c in plain text, keep-alive with
// enough idle connections per node for parallel sliver uploads. It has no
// overall timeout: sliver transfers are long, so bound each call with its
// context.
func NewHTTPClient(o TransportOptions) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       o.TLSConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		// Responses are bounded by the client itself; compression would
		// only cost CPU on erasure-coded (incompressible) bytes.
		DisableCompression: true,
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	if o.H2C {
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	return &http.Client{Transport: tr}
}

// request is one call to the node.
type request struct {
	method, path string
	query        url.Values
	body         [][]byte // sent in order, not copied
	accept       string
	limit        int64 // bound on the success body
}

// do sends req and returns the status and body of a successful answer, or
// an error: *apierr.Error (wrapped) for the node's error answers.
func (c *Client) do(ctx context.Context, req request) (int, []byte, error) {
	u := c.base + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	var size int64
	if req.body != nil {
		for _, p := range req.body {
			size += int64(len(p))
		}
		body = newPiecesReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if req.body != nil {
		hr.ContentLength = size
		pieces := req.body
		hr.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(newPiecesReader(pieces)), nil }
		if size == 0 {
			hr.Body, hr.GetBody = http.NoBody, nil
		}
		hr.Header.Set("Content-Type", "application/octet-stream")
	}
	if req.accept != "" {
		hr.Header.Set("Accept", req.accept)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return resp.StatusCode, nil, apierr.Parse(resp.StatusCode, io.LimitReader(resp.Body, maxErrorSize))
	}
	data, err := readLimited(resp, req.limit)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, data, nil
}

// readLimited reads a body of at most limit bytes, in one allocation when
// the length is announced.
func readLimited(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	if resp.ContentLength >= 0 {
		b := make([]byte, resp.ContentLength)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return b, nil
}

// decodeData decodes the data of a JSON success envelope.
func decodeData[T any](body []byte) (T, error) {
	var env Success[T]
	if err := json.Unmarshal(body, &env); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: success envelope: %v", ErrMalformed, err)
	}
	return env.Success.Data, nil
}

// piecesReader reads byte slices in order without copying them first.
type piecesReader struct {
	pieces [][]byte
}

func newPiecesReader(pieces [][]byte) *piecesReader {
	return &piecesReader{pieces: append([][]byte(nil), pieces...)}
}

func (r *piecesReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(r.pieces) > 0 {
		c := copy(p[n:], r.pieces[0])
		n += c
		if r.pieces[0] = r.pieces[0][c:]; len(r.pieces[0]) == 0 {
			r.pieces = r.pieces[1:]
		}
	}
	if n == 0 && len(r.pieces) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// WriteTo writes the remaining pieces to w, without an intermediate buffer.
func (r *piecesReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(r.pieces) > 0 {
		n, err := w.Write(r.pieces[0])
		total += int64(n)
		if r.pieces[0] = r.pieces[0][n:]; len(r.pieces[0]) == 0 {
			r.pieces = r.pieces[1:]
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

var _ io.WriterTo = (*piecesReader)(nil)
