package ledgerhttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/local"
)

var (
	_ chaintest.Backend = (*Client)(nil)
	_ Ledger            = (*local.Ledger)(nil)
	_ Ledger            = (*Client)(nil)
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// serve opens a ledger, serves it on a loopback socket and returns a client
// of it.
func serve(t *testing.T, genesis []chain.NodeRegistration) (*Client, *local.Ledger) {
	t.Helper()
	l, err := local.Open(t.Context(), local.Config{
		Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: genesis, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Ledger: l, Logger: testLogger(t), MaxWait: 2 * time.Second}).Handler())
	t.Cleanup(func() {
		srv.Close()
		l.Close()
	})
	return &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), PollWait: 200 * time.Millisecond}, l
}

// TestConformanceOverHTTP runs the same suite as chain/local's
// TestConformance, through the client and the server: same results, same
// sentinel errors.
func TestConformanceOverHTTP(t *testing.T) {
	chaintest.Run(t, func(t *testing.T, genesis []chain.NodeRegistration) chaintest.Backend {
		c, _ := serve(t, genesis)
		return c
	})
}

func TestErrorEnvelope(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	c, _ := serve(t, net.Genesis)
	tests := []struct {
		method, path, body string
		code               int
		status, reason     string
	}{
		{"GET", "/v1/objects/0x01", "", 404, "NOT_FOUND", "BLOB_NOT_FOUND"},
		{"GET", "/v1/objects/nothex", "", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"GET", "/v1/blobs/short/status", "", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"GET", "/v1/committee/x", "", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"GET", "/v1/committee/99", "", 400, "INVALID_ARGUMENT", "INVALID_EPOCHS"},
		{"GET", "/v1/events?from=-1", "", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"POST", "/v1/blobs", "{not json", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"POST", "/v1/blobs", `{"encodingType":1,"endEpoch":1}`, 400, "INVALID_ARGUMENT", "INVALID_EPOCHS"},
		{"DELETE", "/v1/objects/0x01", "", 404, "NOT_FOUND", "BLOB_NOT_FOUND"},
		{"GET", "/v1/nothing", "", 404, "NOT_FOUND", "NOT_FOUND"},
		{"POST", "/v1/blobs", strings.Repeat(" ", MaxBodySize+1) + "{}", 413, "SIZE_EXCEEDED", "SIZE_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, c.BaseURL+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var env envelope
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatalf("body %q: %v", b, err)
			}
			if resp.StatusCode != tt.code || env.Error.Code != tt.code || env.Error.Status != tt.status ||
				len(env.Error.Details) != 1 || env.Error.Details[0].Reason != tt.reason || env.Error.Details[0].Domain != Domain {
				t.Fatalf("HTTP %d %s", resp.StatusCode, b)
			}
		})
	}

	// The client gives back the sentinel, with the server's message.
	_, err := c.Blob(t.Context(), chain.ObjectID{1})
	var herr *Error
	if !errors.Is(err, chain.ErrBlobNotFound) || !errors.As(err, &herr) || herr.HTTPStatus != 404 || !strings.Contains(err.Error(), "0x01") {
		t.Fatalf("client error %v", err)
	}
}

func TestLongPoll(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	c, l := serve(t, net.Genesis)

	// An empty poll answers after the wait with no events.
	start := time.Now()
	resp, err := http.Get(c.BaseURL + "/v1/events?from=1&wait=100")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("empty poll: HTTP %d %s after %s", resp.StatusCode, b, time.Since(start))
	}

	// A waiting client wakes on the next event, across several polls.
	got := make(chan []chain.Event, 1)
	go func() {
		evs, err := c.WaitEvents(t.Context(), 1, 5)
		if err != nil {
			t.Error(err)
		}
		got <- evs
	}()
	time.Sleep(500 * time.Millisecond) // more than one PollWait
	if _, err := l.AdvanceEpoch(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case evs := <-got:
		if len(evs) != 1 || evs[0].Kind != chain.EventEpochChange || evs[0].Cursor != 1 {
			t.Fatalf("woke with %+v", evs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting client did not wake")
	}

	// A cancelled wait returns the context's error.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.WaitEvents(ctx, 100, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitEvents past its deadline: %v", err)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	nodes := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	_, l := serve(t, nodes.Genesis)
	ctx, cancel := context.WithCancel(t.Context())
	srv := &Server{Ledger: l, Logger: testLogger(t), MaxWait: 200 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	c := NewClient("http://" + ln.Addr().String())
	if _, err := c.CurrentEpoch(t.Context()); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}
