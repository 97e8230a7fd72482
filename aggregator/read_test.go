package aggregator

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/haulout/haulout/codec"
)

// Ten nodes of one shard each: n = 10, f = 3, k1 = 4 rows, k2 = 7 columns.
var tenNodes = []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// rowBytes returns the size of one row of the blob matrix for a blob of
// size bytes.
func rowBytes(t testing.TB, c codec.Config, size int) int {
	s, err := c.SymbolSize(uint64(size))
	if err != nil {
		t.Fatal(err)
	}
	return c.SecondarySourceSymbols() * s
}

func TestReadWholeBlob(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	full := tn.code.PrimarySourceSymbols() * tn.code.SecondarySourceSymbols() * 2 * 1000
	for _, size := range []int{0, 1, 27, 1000, 14_000, 14_001, full, 300_001} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			b := tn.store(randomBytes(t, size), 5, false)
			u := agg.url + "/v1/blobs/" + b.id.String()
			for _, round := range []string{"cold", "warm"} {
				resp, body := get(t, http.MethodGet, u)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
					t.Fatalf("%s: status %d, %d bytes, equal %v", round, resp.StatusCode, len(body), bytes.Equal(body, b.data))
				}
				h := resp.Header
				for k, want := range map[string]string{
					"Etag":                          `"` + b.id.String() + `"`,
					"X-Content-Type-Options":        "nosniff",
					"Cache-Control":                 "public, max-age=86400, stale-while-revalidate=3600",
					"Accept-Ranges":                 "bytes",
					"Content-Length":                strconv.Itoa(size),
					"Access-Control-Allow-Origin":   "*",
					"Access-Control-Expose-Headers": exposedHeaders,
				} {
					if got := h.Get(k); got != want {
						t.Errorf("%s: %s = %q, want %q", round, k, got, want)
					}
				}
				if ct, ok := h["Content-Type"]; ok {
					t.Errorf("%s: Content-Type %q set without Accept, request type or attribute", round, ct)
				}
				agg.flush()
			}
		})
	}
}

func TestHeadFromMetadata(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	b := tn.store(randomBytes(t, 50_000), 5, false)
	before := tn.sliverRequests()
	u := agg.url + "/v1/blobs/" + b.id.String()
	resp, body := get(t, http.MethodHead, u)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("HEAD: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp.ContentLength != 50_000 || resp.Header.Get("Etag") != `"`+b.id.String()+`"` || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("HEAD headers %v", resp.Header)
	}
	if got := tn.sliverRequests() - before; got != 0 {
		t.Fatalf("HEAD fetched %d slivers", got)
	}
	resp, _ = get(t, http.MethodHead, u, "Range", "bytes=-10")
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != "bytes 49990-49999/50000" || resp.ContentLength != 10 {
		t.Fatalf("HEAD with Range: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, http.MethodHead, agg.url+"/v1/blobs/"+codec.BlobID{1}.String())
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of an unknown blob: %d", resp.StatusCode)
	}
	if got := tn.sliverRequests() - before; got != 0 {
		t.Fatalf("HEADs fetched %d slivers", got)
	}
}

// TestRanges checks every range form and edge against the bytes, cold
// (streamed from a reconstruction) and warm (memory and disk caches).
func TestRanges(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	const size = 40_000
	b := tn.store(randomBytes(t, size), 5, false)
	empty := tn.store(nil, 5, false)
	for _, tier := range []string{"nodes", "memory", "disk"} {
		t.Run(tier, func(t *testing.T) {
			agg := tn.newAggregator(func(c *Config) {
				if tier == "disk" {
					c.MemoryCacheSize = -1
				}
			})
			if tier != "nodes" {
				get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String())
				agg.flush()
			}
			u := agg.url + "/v1/blobs/" + b.id.String()
			get := func(t testing.TB, method, u string, headers ...string) (*http.Response, []byte) {
				if tier == "nodes" {
					agg.dropCaches()
				}
				return get(t, method, u, headers...)
			}
			for _, tt := range []struct {
				rng        string
				start, end int // end exclusive; -1: whole blob with 200
			}{
				{"bytes=0-0", 0, 1},
				{"bytes=39999-39999", 39999, 40000},
				{"bytes=0-39999", 0, 40000},
				{"bytes=100-199", 100, 200},
				{"bytes=39990-", 39990, 40000},
				{"bytes=0-", 0, 40000},
				{"bytes=-1", 39999, 40000},
				{"bytes=-100", 39900, 40000},
				{"bytes=-40000", 0, 40000},
				{"bytes=-99999", 0, 40000},
				{"bytes=39000-99999", 39000, 40000},
				{"bytes=0-0,5-9", 0, -1},
				{"items=0-5", 0, -1},
			} {
				resp, body := get(t, http.MethodGet, u, "Range", tt.rng)
				if tt.end < 0 {
					if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
						t.Errorf("%s: %d, %d bytes; want the whole blob", tt.rng, resp.StatusCode, len(body))
					}
					continue
				}
				want := fmt.Sprintf("bytes %d-%d/%d", tt.start, tt.end-1, size)
				if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != want ||
					resp.ContentLength != int64(tt.end-tt.start) || !bytes.Equal(body, b.data[tt.start:tt.end]) {
					t.Errorf("%s: %d %q, %d bytes; want 206 %q", tt.rng, resp.StatusCode, resp.Header.Get("Content-Range"), len(body), want)
				}
			}
			for _, rng := range []string{"bytes=40000-", "bytes=40000-40010", "bytes=-0", "bytes=5-2", "bytes=x-1", "bytes=50000-,60000-"} {
				resp, body := get(t, http.MethodGet, u, "Range", rng)
				wantError(t, resp, body, http.StatusRequestedRangeNotSatisfiable, reasonInvalidByteRange)
				if cr := resp.Header.Get("Content-Range"); cr != "bytes */40000" {
					t.Errorf("%s: Content-Range %q", rng, cr)
				}
				if resp.Header.Get("Cache-Control") != "" || resp.Header.Get("Etag") != "" {
					t.Errorf("%s: an error carries the blob's caching headers", rng)
				}
			}
			// If-Range: the ETag keeps the range, anything else drops it.
			resp, body := get(t, http.MethodGet, u, "Range", "bytes=0-9", "If-Range", `"`+b.id.String()+`"`)
			if resp.StatusCode != http.StatusPartialContent || len(body) != 10 {
				t.Errorf("If-Range matching: %d, %d bytes", resp.StatusCode, len(body))
			}
			resp, body = get(t, http.MethodGet, u, "Range", "bytes=0-9", "If-Range", `"other"`)
			if resp.StatusCode != http.StatusOK || len(body) != size {
				t.Errorf("If-Range not matching: %d, %d bytes", resp.StatusCode, len(body))
			}
			// The empty blob: every range is unsatisfiable, no Range is 200.
			eu := agg.url + "/v1/blobs/" + empty.id.String()
			for _, rng := range []string{"bytes=0-0", "bytes=0-", "bytes=-1"} {
				resp, body := get(t, http.MethodGet, eu, "Range", rng)
				wantError(t, resp, body, http.StatusRequestedRangeNotSatisfiable, reasonInvalidByteRange)
				if cr := resp.Header.Get("Content-Range"); cr != "bytes */0" {
					t.Errorf("empty blob %s: Content-Range %q", rng, cr)
				}
			}
			resp, body = get(t, http.MethodGet, eu)
			if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != "0" {
				t.Errorf("empty blob: %d, %d bytes, %v", resp.StatusCode, len(body), resp.Header)
			}
		})
	}
}

func TestByteRangeEndpoint(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	b := tn.store(randomBytes(t, 30_000), 5, false)
	u := agg.url + "/v1/blobs/" + b.id.String() + "/byte-range"
	for _, warm := range []bool{false, true} {
		resp, body := get(t, http.MethodGet, u+"?start=100&length=50&cb=1", "Range", "bytes=0-1")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data[100:150]) {
			t.Fatalf("warm %v: %d, %d bytes", warm, resp.StatusCode, len(body))
		}
		if want := fmt.Sprintf(`"%s-100-50"`, b.id); resp.Header.Get("Etag") != want || resp.Header.Get("Accept-Ranges") != "" {
			t.Fatalf("headers %v", resp.Header)
		}
		resp, body = get(t, http.MethodGet, u+"?start=29999&length=1")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data[29999:]) {
			t.Fatalf("last byte: %d %d", resp.StatusCode, len(body))
		}
		agg.flush()
	}
	for _, q := range []string{"?start=0&length=0", "?start=29999&length=2", "?start=30000&length=1", "?start=18446744073709551615&length=1"} {
		resp, body := get(t, http.MethodGet, u+q)
		wantError(t, resp, body, http.StatusBadRequest, reasonInvalidByteRange)
	}
	for _, q := range []string{"", "?start=1", "?start=a&length=1", "?start=-1&length=1"} {
		resp, body := get(t, http.MethodGet, u+q)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), "Failed to deserialize query string") {
			t.Errorf("%q: %d %q", q, resp.StatusCode, body)
		}
	}
	resp, _ := get(t, http.MethodGet, u+"?start=100&length=50", "If-None-Match", fmt.Sprintf(`"%s-100-50"`, b.id))
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match on a byte range: %d", resp.StatusCode)
	}
}

func TestConditionalGet(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	b := tn.store(randomBytes(t, 20_000), 5, false)
	u := agg.url + "/v1/blobs/" + b.id.String()
	etag := `"` + b.id.String() + `"`
	before := tn.sliverRequests()
	for _, inm := range []string{etag, "W/" + etag, `"x", ` + etag, "*"} {
		resp, body := get(t, http.MethodGet, u, "If-None-Match", inm)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("Etag") != etag {
			t.Fatalf("cold If-None-Match %s: %d %v", inm, resp.StatusCode, resp.Header)
		}
	}
	if got := tn.sliverRequests() - before; got != 0 {
		t.Fatalf("a 304 fetched %d slivers", got)
	}
	resp, body := get(t, http.MethodGet, u, "If-None-Match", `"other"`)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
		t.Fatalf("non-matching If-None-Match: %d", resp.StatusCode)
	}
	agg.flush()
	resp, _ = get(t, http.MethodGet, u, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("warm If-None-Match: %d", resp.StatusCode)
	}
	resp, _ = get(t, http.MethodHead, u, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("HEAD If-None-Match: %d", resp.StatusCode)
	}
	// A 304 is not an answer for a blob that is gone.
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/"+codec.BlobID{9}.String(), "If-None-Match", "*")
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)
}
