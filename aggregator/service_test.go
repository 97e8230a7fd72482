package aggregator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCacheEvictionByBytes: both tiers keep the most recently used blobs
// within their byte budgets; what they keep is served with every node down.
func TestCacheEvictionByBytes(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(func(c *Config) {
		c.MemoryCacheSize, c.MemoryCacheMaxEntry = 100_000, 60_000
		c.DiskCacheSize = 150_000
	})
	var blobs []*storedBlob
	for range 4 {
		blobs = append(blobs, tn.store(randomBytes(t, 50_000), 5, false))
	}
	big := tn.store(randomBytes(t, 70_000), 5, false) // above the memory entry limit
	for _, b := range append(blobs, big) {
		if resp, _ := get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String()); resp.StatusCode != http.StatusOK {
			t.Fatal(resp.StatusCode)
		}
		agg.flush()
	}
	if size, n := agg.mem.stats(); size != 100_000 || n != 2 {
		t.Fatalf("memory: %d bytes, %d blobs; want the last two 50 kB blobs", size, n)
	}
	if size, n := agg.disk.stats(); size > 150_000 || n != 2 {
		t.Fatalf("disk: %d bytes, %d blobs", size, n)
	}
	files, _ := os.ReadDir(agg.cfg.DiskCacheDir)
	if len(files) != 2 {
		t.Fatalf("%d files in the cache directory", len(files))
	}
	tn.setAll(modeDown)
	defer tn.setAll(modeOK)
	for i, b := range append(blobs, big) {
		resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String())
		cached := i >= 2 // memory: blobs 2 and 3; disk: blob 3 and big
		switch {
		case cached && (resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data)):
			t.Errorf("blob %d should be cached: %d", i, resp.StatusCode)
		case !cached && resp.StatusCode != http.StatusServiceUnavailable:
			t.Errorf("blob %d should have been evicted: %d", i, resp.StatusCode)
		}
	}
}

// TestCorruptDiskCacheNotServed: a cache file damaged on disk is found out
// by its SHA-256 and removed; the blob is read from the nodes, or is 503
// while they are down, never served wrong.
func TestCorruptDiskCacheNotServed(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	dir := t.TempDir()
	noMem := func(c *Config) { c.MemoryCacheSize, c.DiskCacheDir = -1, dir }
	b := tn.store(randomBytes(t, 1_500_000), 5, false) // above smallBlob: served with sendfile
	u := "/v1/blobs/" + b.id.String()
	agg := tn.newAggregator(noMem)
	if resp, _ := get(t, http.MethodGet, agg.url+u); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	agg.flush()
	e, _, ok := agg.disk.get(b.id, levelDefault)
	if !ok {
		t.Fatal("blob not cached on disk")
	}
	agg.stop()

	// Damage it in place, as a disk would, while no aggregator runs.
	f, err := os.OpenFile(e.path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xde, 0xad}, 1<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	agg = tn.newAggregator(noMem)
	tn.setAll(modeDown)
	resp, body := get(t, http.MethodGet, agg.url+u)
	wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
	if _, err := os.Stat(e.path); !os.IsNotExist(err) {
		t.Fatalf("corrupt file kept: %v", err)
	}
	tn.setAll(modeOK)
	resp, body = get(t, http.MethodGet, agg.url+u)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
		t.Fatalf("after the corrupt file: %d", resp.StatusCode)
	}
	agg.flush()

	// Replaced while the aggregator runs: a new inode, checked again.
	e, _, _ = agg.disk.get(b.id, levelDefault)
	bad := bytes.Clone(b.data)
	bad[len(bad)-1] ^= 1
	if err := os.WriteFile(e.path+".new", bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.path+".new", e.path); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, http.MethodGet, agg.url+u)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
		t.Fatalf("replaced file: %d, equal %v", resp.StatusCode, bytes.Equal(body, b.data))
	}
	if v := value(agg.metrics.cacheEvictions.WithLabelValues("disk", "corrupt")); v != 2 {
		t.Fatalf("%v corrupt files counted", v)
	}
}

// TestOverload: reconstructions beyond MaxConcurrentReads+MaxQueuedReads
// and requests beyond MaxConcurrentRequests are answered 429; requests for
// a blob being read join its reconstruction.
func TestOverload(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	var blobs []*storedBlob
	for range 3 {
		blobs = append(blobs, tn.store(randomBytes(t, 10_000), 5, false))
	}
	agg := tn.newAggregator(func(c *Config) {
		c.MaxConcurrentReads, c.MaxQueuedReads, c.MaxConcurrentRequests = 1, 1, 4
		c.HedgeDelay = time.Hour // wait for the slow nodes
	})
	tn.setAll(modeSlowSlivers)
	defer tn.setAll(modeOK)
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range 3 { // blob 0 runs, blob 1 waits, and blob 0 again joins the first
		wg.Go(func() {
			b := blobs[min(i, 1)]
			if i == 2 {
				b = blobs[0]
			}
			resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String())
			if resp.StatusCode == http.StatusOK && !bytes.Equal(body, b.data) {
				t.Errorf("request %d: wrong bytes", i)
			}
			codes[i] = resp.StatusCode
		})
		time.Sleep(100 * time.Millisecond)
	}
	resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+blobs[2].id.String())
	if resp.StatusCode != http.StatusTooManyRequests || string(body) != overloadMessage {
		t.Errorf("third reconstruction: %d %q", resp.StatusCode, body)
	}
	// Four requests in flight (three reads and this one's neighbour): the
	// next is refused before any work.
	var wg2 sync.WaitGroup
	wg2.Go(func() { get(t, http.MethodGet, agg.url+"/v1/blobs/"+blobs[0].id.String()) })
	time.Sleep(100 * time.Millisecond)
	resp, _ = get(t, http.MethodGet, agg.url+"/status")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("fifth request: %d", resp.StatusCode)
	}
	wg.Wait()
	wg2.Wait()
	agg.flush()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("request %d: %d", i, c)
		}
	}
	if v := value(agg.metrics.reconstructions.WithLabelValues("systematic")); v != 2 {
		t.Errorf("%v reconstructions, want 2 (the third request joined the first)", v)
	}
}

func TestCORS(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	req, _ := http.NewRequest(http.MethodOptions, agg.url+"/v1/blobs/"+strings.Repeat("A", 43), nil)
	req.Header.Set("Origin", "https://site.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range, if-none-match")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") ||
		h.Get("Access-Control-Allow-Headers") != "range, if-none-match" || h.Get("Access-Control-Max-Age") != "86400" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	resp, _ = get(t, http.MethodGet, agg.url+"/v1/blobs/nope", "Origin", "https://site.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Expose-Headers") != exposedHeaders {
		t.Fatalf("error answers lack CORS headers: %v", resp.Header)
	}
}

func TestStatusAPIAndMetrics(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
	resp, body := get(t, http.MethodGet, agg.url+"/status")
	if resp.StatusCode != http.StatusOK || string(body) != "OK" {
		t.Fatalf("/status: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, http.MethodHead, agg.url+"/status"); resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /status: %d", resp.StatusCode)
	}
	resp, body = get(t, http.MethodGet, agg.url+"/v1/api")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "/v1/blobs/{blob_id}/byte-range") || !strings.Contains(string(body), "/v1/quilts/{quilt_id}/patches") {
		t.Fatalf("/v1/api: %d %.500s", resp.StatusCode, body)
	}
	resp, body = get(t, http.MethodGet, agg.url+"/v1/api/openapi.json")
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || resp.StatusCode != http.StatusOK || doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi: %d %v", resp.StatusCode, err)
	}
	for _, p := range []string{"/v1/blobs/{blob_id}", "/v1/blobs/by-object-id/{object_id}", "/v1/blobs/{blob_id}/byte-range", "/status", "/v1/api",
		"/v1/blobs/by-quilt-patch-id/{quilt_patch_id}", "/v1/blobs/by-quilt-id/{quilt_id}/{identifier}", "/v1/quilts/{quilt_id}/patches"} {
		if doc.Paths[p]["get"] == nil || doc.Paths[p]["head"] == nil {
			t.Errorf("openapi lacks GET and HEAD %s", p)
		}
	}
	b := tn.store(randomBytes(t, 1000), 5, false)
	get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String())
	agg.flush()
	rec := newRecorder()
	agg.MetricsHandler().ServeHTTP(rec, mustRequest(t, "/metrics"))
	for _, want := range []string{
		`haulout_aggregator_requests_total{code="200",method="GET",route="/v1/blobs/:blob_id"} 1`,
		`haulout_aggregator_reconstructions_total{outcome="systematic"} 1`,
		`haulout_aggregator_cache_lookups_total{result="miss"} 1`,
		`haulout_aggregator_cache_blobs{tier="memory"} 1`,
	} {
		if !strings.Contains(rec.body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

type recorder struct {
	h    http.Header
	body bytes.Buffer
	code int
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func mustRequest(t testing.TB, path string) *http.Request {
	r, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
