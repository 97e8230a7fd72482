package aggregator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/site"
)

// siteFiles is a small site: pages, a stylesheet, a client-side shell, a
// custom 404 page and a binary large enough for ranges.
func siteFiles(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"/index.html":     []byte("<!doctype html><title>home</title><p>home page</p>"),
		"/about.html":     []byte("<!doctype html><title>about</title><p>about v1</p>"),
		"/404.html":       []byte("<!doctype html><title>404</title><p>custom not found</p>"),
		"/style.css":      []byte("body { color: rgb(1, 2, 3); }"),
		"/app/shell.html": []byte("<!doctype html><p>spa shell</p>"),
		"/big.bin":        randomBytes(t, 40_000),
	}
}

// storeSiteQuilt stores files as one quilt and returns their resources.
func (tn *testNet) storeSiteQuilt(files map[string][]byte) map[string]site.Resource {
	tn.t.Helper()
	var qf []codec.QuiltFile
	for p, b := range files {
		qf = append(qf, codec.QuiltFile{Identifier: p, Data: b})
	}
	sq := tn.storeQuilt(qf)
	out := map[string]site.Resource{}
	for p, b := range files {
		out[p] = site.Resource{
			Path: p, Patch: sq.patch(tn.t, p).ID(sq.id), SHA256: sha256.Sum256(b), Size: uint64(len(b)),
			Headers: map[string]string{"content-type": site.ContentType(p), "x-site-test": "1"},
		}
	}
	return out
}

// storeManifest stores a manifest of the resources, with the test site's
// rules, and returns the stored blob.
func (tn *testNet) storeManifest(resources map[string]site.Resource, tune func(*site.Manifest)) *storedBlob {
	tn.t.Helper()
	m := &site.Manifest{
		Name:      "test",
		Routes:    []site.Route{{Pattern: "/app/*", Target: "/app/shell.html"}},
		Redirects: []site.Redirect{{Pattern: "/old", Location: "/about.html", Status: 301}, {Pattern: "/loop", Location: "/loop", Status: 302}},
	}
	m.Nonce[0] = byte(len(resources))
	for _, r := range resources {
		m.Resources = append(m.Resources, r)
	}
	if tune != nil {
		tune(m)
	}
	m.Normalize()
	b, err := m.Encode()
	if err != nil {
		tn.t.Fatal(err)
	}
	return tn.store(b, 5, false)
}

type siteClient struct {
	t    testing.TB
	base string // aggregator URL
	host string // Host header, "" for the URL's
}

// get requests path without following redirects.
func (sc siteClient) get(method, path string, hdr ...string) (*http.Response, []byte) {
	sc.t.Helper()
	req, err := http.NewRequest(method, sc.base+path, nil)
	if err != nil {
		sc.t.Fatal(err)
	}
	if sc.host != "" {
		req.Host = sc.host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		sc.t.Fatal(err)
	}
	return resp, body
}

func (sc siteClient) expect(path string, status int, body []byte, hdr ...string) *http.Response {
	sc.t.Helper()
	resp, got := sc.get(http.MethodGet, path)
	if resp.StatusCode != status {
		sc.t.Fatalf("GET %s (host %q): %d %s, want %d", path, sc.host, resp.StatusCode, clipBody(got), status)
	}
	if body != nil && !bytes.Equal(got, body) {
		sc.t.Fatalf("GET %s: body %s, want %s", path, clipBody(got), clipBody(body))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if v := resp.Header.Get(hdr[i]); v != hdr[i+1] {
			sc.t.Fatalf("GET %s: %s = %q, want %q", path, hdr[i], v, hdr[i+1])
		}
	}
	return resp
}

func clipBody(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func reasonOf(t testing.TB, body []byte) string {
	t.Helper()
	var env struct {
		Error struct {
			Details []struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Error.Details) == 0 {
		t.Fatalf("not an error envelope: %s", clipBody(body))
	}
	return env.Error.Details[0].Reason
}

func TestSiteServing(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	files := siteFiles(t)
	resources := tn.storeSiteQuilt(files)
	manifest := tn.storeManifest(resources, nil)
	siteID := manifest.rec.ObjectID
	agg := tn.newAggregator(nil)
	prefix := "/sites/" + siteID.String()
	sc := siteClient{t: t, base: agg.url}

	resp := sc.expect(prefix, http.StatusMovedPermanently, nil, "Location", prefix+"/")
	_ = resp
	resp = sc.expect(prefix+"/", 200, files["/index.html"], "Content-Type", "text/html; charset=utf-8", "X-Site-Test", "1",
		"Cache-Control", "no-cache", "X-Content-Type-Options", "nosniff", "Content-Security-Policy", pathModeCSP)
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q", etag)
	}
	sc.expect(prefix+"/about.html", 200, files["/about.html"])
	sc.expect(prefix+"/style.css", 200, files["/style.css"], "Content-Type", "text/css; charset=utf-8")
	// Redirects keep the site's prefix in path mode.
	sc.expect(prefix+"/old", 301, nil, "Location", prefix+"/about.html")
	sc.expect(prefix+"/loop", http.StatusLoopDetected, nil)
	// Routes serve the target for paths with no resource.
	sc.expect(prefix+"/app/settings/profile", 200, files["/app/shell.html"])
	// Anything else is the site's 404 page, with status 404.
	sc.expect(prefix+"/no/such/page", 404, files["/404.html"], "Content-Type", "text/html; charset=utf-8")
	// The same site by its base36 ID.
	sc.expect("/sites/"+site.Base36(siteID)+"/about.html", 200, files["/about.html"])

	// Validators and ranges.
	r, body := sc.get(http.MethodGet, prefix+"/", "If-None-Match", etag)
	if r.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("If-None-Match: %d, %d bytes", r.StatusCode, len(body))
	}
	r, body = sc.get(http.MethodGet, prefix+"/big.bin", "Range", "bytes=100-199")
	if r.StatusCode != http.StatusPartialContent || !bytes.Equal(body, files["/big.bin"][100:200]) ||
		r.Header.Get("Content-Range") != "bytes 100-199/40000" {
		t.Fatalf("range: %d %q, %d bytes", r.StatusCode, r.Header.Get("Content-Range"), len(body))
	}
	r, body = sc.get(http.MethodGet, prefix+"/big.bin", "Range", "bytes=50000-")
	if r.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("unsatisfiable range: %d %s", r.StatusCode, clipBody(body))
	}
	r, body = sc.get(http.MethodHead, prefix+"/big.bin")
	if r.StatusCode != 200 || len(body) != 0 || r.Header.Get("Content-Length") != "40000" {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %q", r.StatusCode, len(body), r.Header.Get("Content-Length"))
	}

	// By host: {base36}.localhost, absolute redirects stay as they are.
	hc := siteClient{t: t, base: agg.url, host: site.Base36(siteID) + ".localhost:31415"}
	hc.expect("/", 200, files["/index.html"], "Content-Security-Policy", "")
	hc.expect("/about.html", 200, files["/about.html"])
	hc.expect("/old", 301, nil, "Location", "/about.html")
	hc.expect("/app/x", 200, files["/app/shell.html"])
	hc.expect("/missing", 404, files["/404.html"])
	// Other hosts are the API as before.
	(siteClient{t: t, base: agg.url, host: "localhost:31415"}).expect("/status", 200, []byte("OK"))

	// Unknown sites and objects that are not sites are 404.
	var unknown chain.ObjectID
	unknown[5] = 9
	_, body = sc.get(http.MethodGet, "/sites/"+unknown.String()+"/")
	if reasonOf(t, body) != reasonSiteNotFound {
		t.Fatalf("unknown site: %s", body)
	}
	notSite := tn.store([]byte("just a blob"), 5, false)
	r, body = sc.get(http.MethodGet, "/sites/"+notSite.rec.ObjectID.String()+"/")
	if r.StatusCode != 404 || reasonOf(t, body) != reasonSiteNotFound {
		t.Fatalf("a blob that is no site: %d %s", r.StatusCode, body)
	}
	r, _ = sc.get(http.MethodGet, "/sites/not-an-id/")
	if r.StatusCode != 400 {
		t.Fatalf("bad site ID: %d", r.StatusCode)
	}

	// An update: a new quilt with the changed page, a new manifest that
	// keeps the other resources where they are, and the site object
	// pointed at it. The site ID stays; the new page shows at once.
	newAbout := []byte("<!doctype html><title>about</title><p>about v2</p>")
	updated := tn.storeSiteQuilt(map[string][]byte{"/about.html": newAbout})
	resources["/about.html"] = updated["/about.html"]
	m2 := tn.storeManifest(resources, nil)
	if err := tn.ledger.SetAttribute(context.Background(), siteID, site.ManifestAttribute, m2.id.String()); err != nil {
		t.Fatal(err)
	}
	sc.expect(prefix+"/about.html", 200, newAbout)
	sc.expect(prefix+"/", 200, files["/index.html"], "ETag", etag)
	hc.expect("/about.html", 200, newAbout)
}

func TestSiteIntegrity(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	files := siteFiles(t)
	resources := tn.storeSiteQuilt(files)
	// The manifest's hash for /index.html is not that of its bytes, and
	// /about.html points at the patch of /style.css.
	bad := resources["/index.html"]
	bad.SHA256[0] ^= 1
	resources["/index.html"] = bad
	swapped := resources["/about.html"]
	swapped.Patch = resources["/style.css"].Patch
	swapped.SHA256 = resources["/style.css"].SHA256
	resources["/about.html"] = swapped
	manifest := tn.storeManifest(resources, nil)
	agg := tn.newAggregator(nil)
	sc := siteClient{t: t, base: agg.url}
	prefix := "/sites/" + manifest.rec.ObjectID.String()
	for _, p := range []string{"/", "/about.html"} {
		r, body := sc.get(http.MethodGet, prefix+p)
		if r.StatusCode != http.StatusServiceUnavailable || reasonOf(t, body) != reasonResourceMismatch {
			t.Fatalf("GET %s with a wrong hash: %d %s", p, r.StatusCode, clipBody(body))
		}
		if bytes.Contains(body, []byte("<p>")) {
			t.Fatalf("GET %s served the bytes: %s", p, body)
		}
	}
	// The other resources are served.
	sc.expect(prefix+"/style.css", 200, files["/style.css"])
}

func TestSiteFromHost(t *testing.T) {
	var id chain.ObjectID
	for i := range id {
		id[i] = byte(i*7 + 3)
	}
	b36 := site.Base36(id)
	for host, want := range map[string]bool{
		b36 + ".localhost":                    true,
		b36 + ".localhost:31415":              true,
		strings.ToUpper(b36) + ".example.com": true,
		b36:                                   false, // no domain
		"localhost:31415":                     false,
		"127.0.0.1:31415":                     false,
		"aggregator.example.com":              false,
		"not-base36-but-long-enough-xxxxxxxxxxxxxxxxxxxx.localhost": false,
	} {
		got, ok := siteFromHost(host)
		if ok != want || (ok && got != id) {
			t.Errorf("siteFromHost(%q) = %s, %v; want %v", host, got, ok, want)
		}
	}
}

// BenchmarkSiteResource compares serving a site resource (ledger lookup,
// cached manifest, resolution, SHA-256 check) with reading the same quilt
// patch by its patch ID, the baseline, in the same run: it reports both
// and their ratio. Both are served from the patch cache after the first
// read.
func BenchmarkSiteResource(b *testing.B) {
	tn := newTestNet(b, tenNodes...)
	files := siteFiles(b)
	resources := tn.storeSiteQuilt(files)
	manifest := tn.storeManifest(resources, nil)
	agg := tn.newAggregator(func(c *Config) { c.Logger = discardLogger() })
	patchURL := agg.url + "/v1/blobs/by-quilt-patch-id/" + resources["/big.bin"].Patch.String()
	siteURL := agg.url + "/sites/" + manifest.rec.ObjectID.String() + "/big.bin"
	get := func(u string) {
		resp, err := benchClient.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(files["/big.bin"])) {
			b.Fatalf("GET %s: %d, %d bytes", u, resp.StatusCode, n)
		}
	}
	get(patchURL)
	get(siteURL)
	b.ResetTimer()
	var patchTime, siteTime time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		get(patchURL)
		mid := time.Now()
		get(siteURL)
		patchTime += mid.Sub(start)
		siteTime += time.Since(mid)
	}
	b.ReportMetric(float64(patchTime.Nanoseconds())/float64(b.N), "patch-ns/op")
	b.ReportMetric(float64(siteTime.Nanoseconds())/float64(b.N), "site-ns/op")
	b.ReportMetric(float64(siteTime)/float64(patchTime), "site/patch")
}
