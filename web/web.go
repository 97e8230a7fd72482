package web

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:generate go run ./internal/gencodec

//go:embed static
var staticFiles embed.FS

// The codec files are generated into codec/ (go generate ./web, run by
// `make build`) and not committed; on a fresh clone the directory holds only
// its README, and the pages say that the codec is missing.
//
//go:embed codec
var codecFiles embed.FS

// CodecFiles are the files the pages load the codec from, as the generator
// writes them: the js/wasm module, Go's loader for it from the same
// toolchain, and the page-side API and worker of wasm/js.
var CodecFiles = []string{"haulout.wasm", "wasm_exec.js", "haulout.js", "worker.js"}

// Config is what the pages are told about the network. The URLs are as a
// browser reaches them.
type Config struct {
	// PublisherURL is the publisher for uploads through it; empty: the page
	// offers only direct uploads.
	PublisherURL string `json:"publisherUrl"`
	// LedgerURL is the ledger's HTTP API: the committee (shard count, nodes),
	// blob status and expiry, and, for direct uploads, registration and
	// certification. Required for uploads and status.
	LedgerURL string `json:"ledgerUrl"`
	// AggregatorURL reads blobs back; empty: the origin that serves the
	// pages (the aggregator, when it serves them).
	AggregatorURL string `json:"aggregatorUrl"`
	// Codec, if set, holds CodecFiles in place of the embedded ones (tests
	// build the module afresh).
	Codec fs.FS `json:"-"`
}

// Handler serves the pages: "/" (upload), "/ui/browse.html", their assets
// under "/ui/", the codec under "/ui/codec/" and the settings at
// "/ui/config.json". It answers GET and HEAD only.
func Handler(cfg Config) http.Handler {
	static, _ := fs.Sub(staticFiles, "static") // cannot fail: the directory is embedded
	codec := cfg.Codec
	if codec == nil {
		codec, _ = fs.Sub(codecFiles, "codec")
	}
	settings, _ := json.Marshal(cfg) // strings only: cannot fail
	return &handler{static: static, codec: codec, settings: settings}
}

type handler struct {
	static, codec fs.FS
	settings      []byte
}

// The pages talk to the publisher, the ledger and every storage node, which
// are other origins, and run WebAssembly; nothing else is allowed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src *; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Revalidate every time: a new binary serves new pages at once.
	hdr.Set("Cache-Control", "no-cache")

	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html" || p == "/ui/" || p == "/ui/index.html":
		h.serveFile(w, r, h.static, "index.html", false)
	case p == "/ui/config.json":
		hdr.Set("Content-Type", "application/json")
		w.Write(h.settings)
	case strings.HasPrefix(p, "/ui/codec/"):
		name := strings.TrimPrefix(p, "/ui/codec/")
		if !isCodecFile(name) {
			http.NotFound(w, r)
			return
		}
		h.serveFile(w, r, h.codec, name, true)
	case strings.HasPrefix(p, "/ui/"):
		h.serveFile(w, r, h.static, strings.TrimPrefix(p, "/ui/"), false)
	default:
		http.NotFound(w, r)
	}
}

func isCodecFile(name string) bool {
	for _, f := range CodecFiles {
		if name == f {
			return true
		}
	}
	return false
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string, isCodec bool) {
	name = path.Clean(name)
	if !fs.ValidPath(name) || name == "." {
		http.NotFound(w, r)
		return
	}
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) && isCodec {
		http.Error(w, "this haulout was built without the browser codec: run `make build` "+
			"(or `go generate ./web` before go build)", http.StatusNotFound)
		return
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		http.Error(w, "file is not seekable", http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
}
