package aggregator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
)

// storedQuilt is a quilt stored on the test net as an ordinary blob.
type storedQuilt struct {
	*storedBlob
	quilt *codec.Quilt
	files map[string]codec.QuiltFile
}

func (tn *testNet) storeQuilt(files []codec.QuiltFile) *storedQuilt {
	tn.t.Helper()
	q, err := tn.code.BuildQuilt(files)
	if err != nil {
		tn.t.Fatal(err)
	}
	sq := &storedQuilt{storedBlob: tn.store(q.Blob, 5, false), quilt: q, files: map[string]codec.QuiltFile{}}
	for _, f := range files {
		sq.files[f.Identifier] = f
	}
	return sq
}

// patch returns the index entry of the identifier.
func (sq *storedQuilt) patch(t testing.TB, identifier string) *codec.QuiltPatch {
	p, err := sq.quilt.Index.Lookup(identifier)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testQuiltFiles(t testing.TB) []codec.QuiltFile {
	return []codec.QuiltFile{
		{Identifier: "/index.html", Tags: map[string]string{"content-type": "text/html", "secret": "x"}, Data: []byte("<!doctype html><p>hello</p>")},
		{Identifier: "big.bin", Data: randomBytes(t, 40_000)},
		{Identifier: "notes.txt", Tags: map[string]string{"kind": "note"}, Data: []byte("some notes\n")},
		{Identifier: "empty", Data: nil},
	}
}

func TestQuiltPatchReads(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	sq := tn.storeQuilt(testQuiltFiles(t))
	qid := sq.id.String()

	// The list: Walrus's JSON, in quilt order.
	resp, body := get(t, http.MethodGet, agg.url+"/v1/quilts/"+qid+"/patches")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	var items []map[string]any
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != len(sq.quilt.Index.Patches) {
		t.Fatalf("list has %d items, want %d: %s", len(items), len(sq.quilt.Index.Patches), body)
	}
	for i, p := range sq.quilt.Index.Patches {
		it := items[i]
		tags, _ := it["tags"].(map[string]any)
		if it["identifier"] != p.Identifier || it["patch_id"] != p.ID(sq.id).String() || tags == nil || len(tags) != len(p.Tags) {
			t.Errorf("item %d: %v, want %s %s %v", i, it, p.Identifier, p.ID(sq.id), p.Tags)
		}
	}

	for _, f := range testQuiltFiles(t) {
		f = sq.files[f.Identifier]
		p := sq.patch(t, f.Identifier)
		etag := `"` + p.ID(sq.id).String() + `"`
		for _, u := range []string{
			agg.url + "/v1/blobs/by-quilt-id/" + qid + "/" + url.PathEscape(f.Identifier),
			agg.url + "/v1/blobs/by-quilt-patch-id/" + p.ID(sq.id).String(),
		} {
			resp, body := get(t, http.MethodGet, u)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.Data) {
				t.Fatalf("%s: %d, %d bytes, want %d", u, resp.StatusCode, len(body), len(f.Data))
			}
			h := resp.Header
			if h.Get(HeaderQuiltPatchIdentifier) != f.Identifier || h.Get("ETag") != etag || h.Get("Cache-Control") != cacheControl ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Accept-Ranges") != "bytes" {
				t.Errorf("%s: headers %v", u, h)
			}
			if want := f.Tags["content-type"]; h.Get("Content-Type") != want {
				t.Errorf("%s: Content-Type %q, want %q", u, h.Get("Content-Type"), want)
			}
			if h.Get("Secret") != "" || h.Get("Kind") != "" {
				t.Errorf("%s: a tag not on the allow-list became a header: %v", u, h)
			}
			// Accept wins over the tag, as Walrus.
			if resp, _ := get(t, http.MethodGet, u, "Accept", "text/plain"); resp.Header.Get("Content-Type") != "text/plain" {
				t.Errorf("%s: Accept not mirrored: %v", u, resp.Header)
			}
			for _, inm := range []string{etag, `W/` + etag, qid} {
				resp, body := get(t, http.MethodGet, u, "If-None-Match", inm)
				if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
					t.Errorf("%s If-None-Match %s: %d %v", u, inm, resp.StatusCode, resp.Header)
				}
			}
			resp, body = get(t, http.MethodHead, u)
			if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(f.Data)) {
				t.Errorf("HEAD %s: %d length %d", u, resp.StatusCode, resp.ContentLength)
			}
			if len(f.Data) < 10 {
				continue
			}
			resp, body = get(t, http.MethodGet, u, "Range", "bytes=3-7")
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, f.Data[3:8]) ||
				resp.Header.Get("Content-Range") != "bytes 3-7/"+itoa(len(f.Data)) {
				t.Errorf("%s range: %d %q %v", u, resp.StatusCode, body, resp.Header)
			}
			resp, body = get(t, http.MethodGet, u, "Range", "bytes=-4")
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, f.Data[len(f.Data)-4:]) {
				t.Errorf("%s suffix range: %d", u, resp.StatusCode)
			}
			resp, body = get(t, http.MethodGet, u, "Range", "bytes=999999-")
			wantError(t, resp, body, http.StatusRequestedRangeNotSatisfiable, reasonInvalidByteRange)
			if resp.Header.Get("Content-Range") != "bytes */"+itoa(len(f.Data)) {
				t.Errorf("416 Content-Range %q", resp.Header.Get("Content-Range"))
			}
			resp, body = get(t, http.MethodGet, u, "Range", "bytes=3-7", "If-Range", `"other"`)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.Data) {
				t.Errorf("%s If-Range mismatch: %d", u, resp.StatusCode)
			}
		}
	}

	// Not there.
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-id/"+qid+"/missing.txt")
	wantError(t, resp, body, http.StatusNotFound, reasonQuiltPatchNotFound)
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-id/"+qid+"/index.html") // not "/index.html"
	wantError(t, resp, body, http.StatusNotFound, reasonQuiltPatchNotFound)
	first := sq.quilt.Index.Patches[0]
	wrong := codec.QuiltPatchID{Quilt: sq.id, Patch: codec.QuiltPatchInternalID{Start: first.Start, End: first.End + 1}}
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-patch-id/"+wrong.String())
	wantError(t, resp, body, http.StatusNotFound, reasonQuiltPatchNotFound)
	beyond := codec.QuiltPatchID{Quilt: sq.id, Patch: codec.QuiltPatchInternalID{Start: 1, End: 60000}}
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-patch-id/"+beyond.String())
	wantError(t, resp, body, http.StatusNotFound, reasonQuiltPatchNotFound)
	unknown := codec.BlobID{9, 9, 9}
	for _, path := range []string{
		"/v1/blobs/by-quilt-id/" + unknown.String() + "/a",
		"/v1/quilts/" + unknown.String() + "/patches",
		"/v1/blobs/by-quilt-patch-id/" + codec.QuiltPatchID{Quilt: unknown, Patch: first.InternalID()}.String(),
	} {
		resp, body := get(t, http.MethodGet, agg.url+path)
		wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)
	}
	// A blob that is not a quilt.
	plain := tn.store(bytes.Repeat([]byte("not a quilt "), 3000), 5, false)
	for _, path := range []string{"/v1/quilts/" + plain.id.String() + "/patches", "/v1/blobs/by-quilt-id/" + plain.id.String() + "/a"} {
		resp, body := get(t, http.MethodGet, agg.url+path)
		wantError(t, resp, body, http.StatusNotFound, reasonQuiltPatchNotFound)
	}
}

// sliverLog counts what a read asks the nodes for, at the HTTP level:
// sliver requests by axis and index, and the bytes of every answer.
type sliverLog struct {
	base http.RoundTripper
	mu   sync.Mutex
	// secondary and primary list the sliver pairs asked for.
	secondary, primary []int
	bytes              int64
	sliverBytes        int64
}

func (l *sliverLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bytes += int64(len(body))
	if isSliverGet(r) {
		l.sliverBytes += int64(len(body))
		parts := strings.Split(strings.TrimSuffix(r.URL.Path, "/"), "/")
		pair := atoiOr(parts[len(parts)-2])
		if parts[len(parts)-1] == "secondary" {
			l.secondary = append(l.secondary, pair)
		} else {
			l.primary = append(l.primary, pair)
		}
	}
	return resp, nil
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }

// counts returns what was logged so far.
func (l *sliverLog) counts() (secondary, primary []int, bytes, sliverBytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.secondary), slices.Clone(l.primary), l.bytes, l.sliverBytes
}

func (l *sliverLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.secondary, l.primary, l.bytes, l.sliverBytes = nil, nil, 0, 0
}

// countingDial is a Config.Dial whose clients log through l.
func countingDial(l *sliverLog) func(chain.NodeInfo) (SliverSource, error) {
	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	l.base = hc.Transport
	hc.Transport = l
	return func(node chain.NodeInfo) (SliverSource, error) {
		return nodeclient.New(node.RESTURL, nodeclient.WithHTTPClient(hc))
	}
}

// columnsOf returns the columns a list of secondary sliver pairs names.
func columnsOf(pairs []int, n int) map[int]bool {
	out := map[int]bool{}
	for _, p := range pairs {
		out[int(codec.SliverIndex(uint16(p), codec.Secondary, n))] = true
	}
	return out
}

// TestQuiltPatchReadFetchesOnlyItsColumns: a patch read asks the nodes
// for the secondary slivers of the index and of the patch (by identifier)
// or of the patch alone (by patch ID), nothing else; far fewer bytes than
// a read of the whole quilt.
func TestQuiltPatchReadFetchesOnlyItsColumns(t *testing.T) {
	tn := newTestNet(t, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10) // 100 shards: 66 patches at most
	var files []codec.QuiltFile
	for i := range 20 {
		files = append(files, codec.QuiltFile{Identifier: "file-" + itoa(100+i), Data: randomBytes(t, 5_000+1000*i)})
	}
	sq := tn.storeQuilt(files)
	p := sq.patch(t, "file-107")
	var log sliverLog
	fresh := func() *testAggregator {
		log.reset()
		return tn.newAggregator(func(c *Config) { c.Dial = countingDial(&log); c.DiskCacheDir = "" })
	}
	x := sq.quilt.Index
	var agg *testAggregator
	check := func(what string, want map[int]bool) {
		t.Helper()
		agg.flush()
		secondary, primary, _, _ := log.counts()
		got := columnsOf(secondary, tn.nShards)
		if len(primary) != 0 || len(got) != len(want) || len(secondary) != len(want) {
			t.Fatalf("%s: fetched primary %v, secondary columns %v; want columns %v only, once each", what, primary, got, want)
		}
		for c := range want {
			if !got[c] {
				t.Fatalf("%s: fetched columns %v, want %v", what, got, want)
			}
		}
	}

	agg = fresh()
	resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-id/"+sq.id.String()+"/file-107")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files["file-107"].Data) {
		t.Fatalf("read: %d", resp.StatusCode)
	}
	want := map[int]bool{}
	for c := range x.Columns {
		want[c] = true
	}
	for c := p.Start; c < p.End; c++ {
		want[int(c)] = true
	}
	check("by identifier", want)
	_, _, _, patchBytes := log.counts()

	// The index is cached: the next patch needs only its own columns.
	q := sq.patch(t, "file-112")
	log.reset()
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-id/"+sq.id.String()+"/file-112")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files["file-112"].Data) {
		t.Fatalf("second read: %d", resp.StatusCode)
	}
	want = map[int]bool{}
	for c := q.Start; c < q.End; c++ {
		want[int(c)] = true
	}
	check("second patch, index cached", want)

	agg = fresh()
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-patch-id/"+p.ID(sq.id).String())
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files["file-107"].Data) {
		t.Fatalf("by patch ID: %d", resp.StatusCode)
	}
	want = map[int]bool{}
	for c := p.Start; c < p.End; c++ {
		want[int(c)] = true
	}
	check("by patch ID", want)

	// The whole quilt, for comparison.
	agg = fresh()
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/"+sq.id.String())
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.quilt.Blob) {
		t.Fatalf("whole: %d", resp.StatusCode)
	}
	agg.flush()
	_, _, _, wholeBytes := log.counts()
	if patchBytes*4 > wholeBytes {
		t.Fatalf("a patch read fetched %d sliver bytes, the whole quilt %d", patchBytes, wholeBytes)
	}
	t.Logf("sliver bytes: patch by identifier %d, whole quilt %d (%.1fx)", patchBytes, wholeBytes, float64(wholeBytes)/float64(patchBytes))
}

// noRecovery hides a node client's recovery-symbol call (as a node that
// does not serve it would).
type noRecovery struct{ SliverSource }

// TestQuiltPatchColumnRecoveryAndFallback: when the node holding one of
// the patch's columns is down or lies, the column is rebuilt from the
// other nodes' recovery symbols; when that cannot be done either, the
// patch comes from the whole quilt, read and decoded like any blob. The
// bytes are right every time.
func TestQuiltPatchColumnRecoveryAndFallback(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	sq := tn.storeQuilt(testQuiltFiles(t))
	p := sq.patch(t, "big.bin")
	pair := codec.SliverIndex(p.Start, codec.Secondary, tn.nShards)
	owner, _ := tn.committee.NodeForShard(uint16(codec.ShardForPair(sq.id, int(pair), tn.nShards)))
	for _, tc := range []struct {
		name     string
		mode     int32
		recovery bool
	}{
		{"down", modeDown, true},
		{"lying", modeCorruptSlivers, true},
		{"down-no-recovery", modeDown, false},
		{"lying-no-recovery", modeCorruptSlivers, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log sliverLog
			dial := countingDial(&log)
			agg := tn.newAggregator(func(c *Config) {
				c.DiskCacheDir = ""
				c.Dial = dial
				if !tc.recovery {
					c.Dial = func(n chain.NodeInfo) (SliverSource, error) {
						s, err := dial(n)
						return noRecovery{s}, err
					}
				}
			})
			defer agg.stop()
			tn.nodes[owner].proxy.set(tc.mode)
			resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-patch-id/"+p.ID(sq.id).String())
			tn.nodes[owner].proxy.set(modeOK)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files["big.bin"].Data) {
				t.Fatalf("%d, %d bytes", resp.StatusCode, len(body))
			}
			recovered := value(agg.quilts.recovered)
			whole := value(agg.quilts.reads.WithLabelValues("blob"))
			_, primary, _, _ := log.counts()
			if tc.recovery && (recovered != 1 || whole != 0 || len(primary) != 0) {
				t.Fatalf("recovered %v columns, %v whole reads, primary slivers %v; want the column recovered", recovered, whole, primary)
			}
			if !tc.recovery && (recovered != 0 || whole != 1) {
				t.Fatalf("recovered %v, whole reads %v; want a whole read", recovered, whole)
			}
			if tc.recovery {
				return
			}
			// The quilt is now in the blob cache: other patches come from it.
			resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-quilt-id/"+sq.id.String()+"/notes.txt")
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files["notes.txt"].Data) {
				t.Fatalf("from the cached quilt: %d", resp.StatusCode)
			}
			if v := value(agg.quilts.reads.WithLabelValues("cache")); v != 1 {
				t.Errorf("the second patch was not cut from the cached quilt (%v)", v)
			}
		})
	}
}

// TestQuiltDeletedIsGone: a deleted quilt's patches are 404 although its
// index and patches were cached.
func TestQuiltDeletedIsGone(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	q, err := tn.code.BuildQuilt(testQuiltFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	b := tn.store(q.Blob, 5, true)
	u := agg.url + "/v1/blobs/by-quilt-id/" + b.id.String() + "/notes.txt"
	if resp, _ := get(t, http.MethodGet, u); resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d", resp.StatusCode)
	}
	if _, err := tn.ledger.Delete(t.Context(), b.rec.ObjectID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5e9, "the deleted quilt to be gone", func() bool {
		resp, _ := get(t, http.MethodGet, u)
		return resp.StatusCode == http.StatusNotFound
	})
	resp, body := get(t, http.MethodGet, u)
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)
}

// TestServeQuiltPatchExtraHeaders: what site serving gets from
// serveQuiltPatch: the patch with the caller's headers over the route's.
func TestServeQuiltPatchExtraHeaders(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	sq := tn.storeQuilt(testQuiltFiles(t))
	extra := http.Header{"Content-Type": {"text/css"}, "Cache-Control": {"no-cache"}, "Etag": {`"mine"`}, "X-Content-Type-Options": {""}}
	e := echo.New()
	e.HTTPErrorHandler = apierr.EchoHandler(discardLogger())
	e.GET("/*", func(c echo.Context) error {
		return agg.serveQuiltPatch(c, sq.id, strings.TrimPrefix(c.Request().URL.Path, "/x"), extra)
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, body := get(t, http.MethodGet, srv.URL+"/x/index.html")
	h := resp.Header
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files["/index.html"].Data) || h.Get("Content-Type") != "text/css" ||
		h.Get("Cache-Control") != "no-cache" || h.Get("X-Content-Type-Options") != "" || h.Get("ETag") != `"`+sq.patch(t, "/index.html").ID(sq.id).String()+`"` {
		t.Fatalf("%d %v", resp.StatusCode, h)
	}
	resp, _ = get(t, http.MethodGet, srv.URL+"/x/index.html", "If-None-Match", h.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("revalidation: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = get(t, http.MethodGet, srv.URL+"/x/nope")
	wantError(t, resp, body, http.StatusNotFound, reasonQuiltPatchNotFound)
	// readQuiltPatch gives the bytes and the tags.
	p, err := agg.readQuiltPatch(t.Context(), sq.id, "notes.txt")
	if err != nil || !bytes.Equal(p.data, sq.files["notes.txt"].Data) || p.tags["kind"] != "note" || p.identifier != "notes.txt" {
		t.Fatalf("readQuiltPatch: %v %+v", err, p)
	}
}

func TestLRUBoundsBytes(t *testing.T) {
	c := newLRU[int, string](10, 6)
	c.put(1, "a", 4)
	c.put(2, "b", 4)
	if _, ok := c.get(1); !ok { // 1 is now the most recent
		t.Fatal("1 missing")
	}
	c.put(3, "c", 4) // 12 > 10: the least recent (2) goes
	if _, ok := c.get(2); ok {
		t.Error("2 kept past the bound")
	}
	if v, ok := c.get(1); !ok || v != "a" {
		t.Error("1 evicted instead of 2")
	}
	c.put(4, "big", 7) // above maxEntry: not kept, nothing evicted
	if _, ok := c.get(4); ok || c.len() != 2 {
		t.Errorf("oversized entry kept (%d entries)", c.len())
	}
	c.put(1, "a2", 2) // replace: size accounted once
	c.removeIf(func(k int) bool { return k == 3 })
	if v, _ := c.get(1); v != "a2" || c.len() != 1 || c.size != 2 {
		t.Errorf("after replace and removeIf: %q, %d entries, %d bytes", v, c.len(), c.size)
	}
}

// With AllowQuiltPatchTags (Walrus's --allow-quilt-patch-tags-in-response)
// every tag that is a valid header becomes one; without it only allowed ones.
func TestQuiltPatchTagsAllowedAsHeaders(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(func(c *Config) { c.AllowQuiltPatchTags = true })
	sq := tn.storeQuilt(testQuiltFiles(t))
	for identifier, want := range map[string]map[string]string{
		"/index.html": {"Content-Type": "text/html", "Secret": "x"},
		"notes.txt":   {"Kind": "note"},
	} {
		u := agg.url + "/v1/blobs/by-quilt-id/" + sq.id.String() + "/" + url.PathEscape(identifier)
		resp, body := get(t, http.MethodGet, u)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sq.files[identifier].Data) {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", identifier, k, got, v)
			}
		}
	}
}
