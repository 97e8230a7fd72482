package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/haulout/haulout/web"
)

func get(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHandler(t *testing.T) {
	codec := fstest.MapFS{"haulout.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")}, "other.txt": {Data: []byte("x")}}
	h := web.Handler(web.Config{PublisherURL: "http://pub:1", LedgerURL: "http://ledger:2", Codec: codec})

	res, body := get(t, h, http.MethodGet, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `<script type="module" src="/ui/upload.js">`) {
		t.Errorf("GET /: %d %.80q", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'wasm-unsafe-eval'") || !strings.Contains(csp, "connect-src *") {
		t.Errorf("CSP %q", csp)
	}
	for _, p := range []string{"/ui/browse.html", "/ui/upload.js", "/ui/browse.js", "/ui/common.js", "/ui/style.css"} {
		if res, _ := get(t, h, http.MethodGet, p); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	if res, _ := get(t, h, http.MethodGet, "/ui/upload.js"); !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("upload.js served as %q", res.Header.Get("Content-Type"))
	}

	res, body = get(t, h, http.MethodGet, "/ui/config.json")
	var cfg map[string]string
	if err := json.Unmarshal([]byte(body), &cfg); err != nil || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("config.json: %v %q", err, body)
	}
	if cfg["publisherUrl"] != "http://pub:1" || cfg["ledgerUrl"] != "http://ledger:2" || cfg["aggregatorUrl"] != "" {
		t.Errorf("config.json: %v", cfg)
	}

	res, _ = get(t, h, http.MethodGet, "/ui/codec/haulout.wasm")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("haulout.wasm: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Only the codec's files are served from the codec directory, and a
	// missing one says how to build it.
	if res, _ := get(t, h, http.MethodGet, "/ui/codec/other.txt"); res.StatusCode != http.StatusNotFound {
		t.Errorf("codec/other.txt: %d", res.StatusCode)
	}
	if res, body := get(t, h, http.MethodGet, "/ui/codec/worker.js"); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "make build") {
		t.Errorf("missing codec file: %d %q", res.StatusCode, body)
	}
	for _, p := range []string{"/ui/nothing.js", "/ui/../web.go", "/ui/", "/ui/static/index.html", "/v1/blobs/x", "/elsewhere"} {
		res, _ := get(t, h, http.MethodGet, p)
		if p == "/ui/" {
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d", p, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	if res, _ := get(t, h, http.MethodPost, "/"); res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d", res.StatusCode)
	}
	if res, body := get(t, h, http.MethodHead, "/ui/style.css"); res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD: %d %q", res.StatusCode, body)
	}
}

// The embedded codec directory always exists, generated or not, so that a
// fresh clone builds; without the generated files the pages say why.
func TestEmbeddedCodec(t *testing.T) {
	h := web.Handler(web.Config{})
	res, body := get(t, h, http.MethodGet, "/ui/codec/haulout.wasm")
	switch res.StatusCode {
	case http.StatusOK:
		if !strings.HasPrefix(body, "\x00asm") {
			t.Errorf("embedded haulout.wasm is not WebAssembly")
		}
	case http.StatusNotFound:
		if !strings.Contains(body, "go generate ./web") {
			t.Errorf("missing codec: %q", body)
		}
	default:
		t.Errorf("embedded haulout.wasm: %d", res.StatusCode)
	}
}
