package aggregator

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/codec"
)

func TestNotFoundAndMalformed(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	ctx := context.Background()

	resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+codec.BlobID{1, 2, 3}.String())
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)

	// Registered, never certified.
	data := randomBytes(t, 1000)
	enc, err := tn.code.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	epoch, _ := tn.ledger.CurrentEpoch(ctx)
	size, _ := chain.EncodedBlobLength(1000, uint16(tn.nShards))
	if _, err := tn.ledger.Register(ctx, chain.RegisterRequest{BlobID: enc.Metadata.ID, RootHash: chain.Hash(enc.Metadata.RootHash()),
		UnencodedSize: 1000, EncodingType: chain.EncodingRS2, EncodedSize: size, EndEpoch: epoch + 3}); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/"+enc.Metadata.ID.String())
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)

	for _, path := range []string{
		"/v1/blobs/not-a-blob-id",
		"/v1/blobs/" + strings.Repeat("A", 44),
		"/v1/blobs/by-object-id/0xzz",
		"/v1/blobs/by-object-id/0x" + strings.Repeat("0", 65),
		"/v1/blobs/short/byte-range?start=0&length=1",
		"/v1/blobs/by-quilt-patch-id/short",
		"/v1/blobs/by-quilt-patch-id/" + strings.Repeat("A", 50), // version byte 0
		"/v1/blobs/by-quilt-id/short/index.html",
		"/v1/quilts/short/patches",
	} {
		resp, body := get(t, http.MethodGet, agg.url+path)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), "Invalid URL") {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-object-id/0x"+strings.Repeat("ab", 32))
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)

	// Routes that do not exist: 404 with no body.
	id := codec.BlobID{7}.String()
	for _, path := range []string{
		"/v1/blobs/" + id + "/",
		"/v1/nothing",
		"/v1/quilts/" + id + "/patches/",
		"/v1/blobs/by-quilt-id/" + id,
	} {
		resp, body := get(t, http.MethodGet, agg.url+path)
		if resp.StatusCode != http.StatusNotFound || len(body) != 0 {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
}

// TestDeletedExpiredInvalidLeaveTheCache: blobs that are deleted, expire
// or are marked invalid are answered 404 and leave both caches, through
// the ledger's events.
func TestDeletedExpiredInvalidLeaveTheCache(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	ctx := context.Background()
	deletable := tn.store(randomBytes(t, 30_000), 5, true)
	short := tn.store(randomBytes(t, 30_000), 1, false)
	invalid := tn.store(randomBytes(t, 30_000), 5, false)
	keep := tn.store(randomBytes(t, 30_000), 5, false)
	for _, b := range []*storedBlob{deletable, short, invalid, keep} {
		resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String())
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
			t.Fatalf("read: %d", resp.StatusCode)
		}
	}
	agg.flush()
	if _, n := agg.disk.stats(); n != 4 {
		t.Fatalf("%d blobs on disk, want 4", n)
	}
	cached := func(id codec.BlobID) bool {
		_, inMem := agg.mem.get(id, levelSkip)
		_, _, onDisk := agg.disk.get(id, levelSkip)
		return inMem || onDisk
	}

	if _, err := tn.ledger.Delete(ctx, deletable.rec.ObjectID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the deleted blob to leave the cache", func() bool { return !cached(deletable.id) })
	resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+deletable.id.String())
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/by-object-id/"+deletable.rec.ObjectID.String())
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)

	epoch, _ := tn.ledger.CurrentEpoch(ctx)
	msg := chaintest.InvalidBlobID(invalid.id, epoch)
	f := tn.code.MaxFaulty()
	var signers []uint16
	var sigs []bls.Signature
	for i := 0; i <= f; i++ {
		signers = append(signers, uint16(i))
		sigs = append(sigs, chaintest.NodeKey(i).Sign(msg))
	}
	cert, err := chain.NewCertificate(signers, msg, sigs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.ledger.InvalidateBlobID(ctx, cert); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the invalid blob to leave the cache", func() bool { return !cached(invalid.id) })
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/"+invalid.id.String())
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)

	if _, err := tn.ledger.AdvanceEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the expired blob to leave the cache", func() bool { return !cached(short.id) })
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/"+short.id.String())
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)

	if !cached(keep.id) {
		t.Fatal("a live blob left the cache")
	}
	tn.setAll(modeDown) // served from the cache
	resp, body = get(t, http.MethodGet, agg.url+"/v1/blobs/"+keep.id.String())
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, keep.data) {
		t.Fatalf("live blob: %d", resp.StatusCode)
	}
	tn.setAll(modeOK)
}

// TestCacheWithoutEvents: an aggregator whose event follower does not run
// (Handler without Serve) asks the ledger again before serving a cached
// blob whose status is older than a few seconds.
func TestCacheWithoutEvents(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	a, err := New(Config{Ledger: tn.ledger, Logger: testLogger(t), DiskCacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	b := tn.store(randomBytes(t, 10_000), 5, true)
	u := srv.URL + "/v1/blobs/" + b.id.String()
	if resp, _ := get(t, http.MethodGet, u); resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d", resp.StatusCode)
	}
	if _, err := tn.ledger.Delete(context.Background(), b.rec.ObjectID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(staleStatus + 100*time.Millisecond)
	resp, body := get(t, http.MethodGet, u)
	wantError(t, resp, body, http.StatusNotFound, reasonBlobNotFound)
	if _, n := a.mem.stats(); n != 0 {
		t.Fatal("the deleted blob stayed in memory")
	}
}

func TestByObjectID(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	ctx := context.Background()
	b := tn.store(randomBytes(t, 25_000), 5, false)
	for k, v := range map[string]string{
		"content-type":        "image/png",
		"Content-Disposition": `attachment; filename="x.png"`,
		"x-custom":            "not allowed",
		"cache-control":       "no-store",
		"link":                "bad\nvalue",
	} {
		if err := tn.ledger.SetAttribute(ctx, b.rec.ObjectID, k, v); err != nil {
			t.Fatal(err)
		}
	}
	u := agg.url + "/v1/blobs/by-object-id/" + b.rec.ObjectID.String()
	for _, round := range []string{"cold", "warm"} {
		resp, body := get(t, http.MethodGet, u)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
			t.Fatalf("%s: %d", round, resp.StatusCode)
		}
		h := resp.Header
		if h.Get("Content-Type") != "image/png" || h.Get("Content-Disposition") != `attachment; filename="x.png"` {
			t.Fatalf("%s: attributes not copied: %v", round, h)
		}
		if h.Get("X-Custom") != "" || h.Get("Link") != "" || h.Get("Cache-Control") != cacheControl {
			t.Fatalf("%s: disallowed or invalid attribute copied: %v", round, h)
		}
		if h.Get("Etag") != `"`+b.id.String()+`"` {
			t.Fatalf("%s: ETag %q", round, h.Get("Etag"))
		}
		agg.flush()
	}
	resp, body := get(t, http.MethodGet, u, "Accept", "text/plain", "Range", "bytes=10-19")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, b.data[10:20]) ||
		resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("Content-Disposition") == "" {
		t.Fatalf("range with Accept: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestContentTypeMirroring(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	sniff := tn.newAggregator(func(c *Config) { c.SniffContentType = true })
	b := tn.store([]byte("<!doctype html><html><body>hi</body></html>"), 5, false)
	u := "/v1/blobs/" + b.id.String()
	for _, tt := range []struct {
		agg     *testAggregator
		headers []string
		want    string
	}{
		{agg, []string{"Accept", "image/webp"}, "image/webp"},
		{agg, []string{"Accept", "text/html,*/*;q=0.8"}, ""},
		{agg, []string{"Content-Type", "video/mp4"}, "video/mp4"},
		{agg, []string{"Accept", "*/*", "Content-Type", "video/mp4"}, "video/mp4"},
		{agg, nil, ""},
		{sniff, nil, "text/html; charset=utf-8"},
		{sniff, []string{"Accept", "text/plain"}, "text/plain"},
	} {
		resp, _ := get(t, http.MethodGet, tt.agg.url+u, tt.headers...)
		got, present := resp.Header["Content-Type"]
		if (tt.want == "" && present) || (tt.want != "" && resp.Header.Get("Content-Type") != tt.want) {
			t.Errorf("%v (sniff %v): Content-Type %v, want %q", tt.headers, tt.agg == sniff, got, tt.want)
		}
	}
}

func TestConsistencyFlagsAndQuery(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	b := tn.store(randomBytes(t, 5_000), 5, false)
	u := agg.url + "/v1/blobs/" + b.id.String()
	resp, body := get(t, http.MethodGet, u+"?strict_consistency_check=true&skip_consistency_check=true")
	wantError(t, resp, body, http.StatusBadRequest, reasonInvalidConsistency)
	resp, body = get(t, http.MethodGet, u+"?strict_consistency_check=maybe")
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), "Failed to deserialize query string") {
		t.Fatalf("bad flag: %d %q", resp.StatusCode, body)
	}
	for _, q := range []string{"?cb=123", "?strict_consistency_check=true", "?skip_consistency_check=true&x=y", "?strict_consistency_check=false"} {
		resp, body := get(t, http.MethodGet, u+q)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
			t.Fatalf("%s: %d", q, resp.StatusCode)
		}
	}
	// A strict read is cached as strict and then serves every mode.
	agg.flush()
	tn.setAll(modeDown)
	defer tn.setAll(modeOK)
	for _, q := range []string{"?strict_consistency_check=true", "", "?skip_consistency_check=true"} {
		if resp, _ := get(t, http.MethodGet, u+q); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s from the cache: %d", q, resp.StatusCode)
		}
	}
}

func TestDefaultCacheDoesNotServeStrict(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	b := tn.store(randomBytes(t, 5_000), 5, false)
	u := agg.url + "/v1/blobs/" + b.id.String()
	if resp, _ := get(t, http.MethodGet, u); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	agg.flush()
	tn.setAll(modeDown)
	defer tn.setAll(modeOK)
	resp, body := get(t, http.MethodGet, u+"?strict_consistency_check=true")
	wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
	if resp, _ := get(t, http.MethodGet, u); resp.StatusCode != http.StatusOK {
		t.Fatalf("default read from the cache: %d", resp.StatusCode)
	}
}

func TestMaxBlobSize(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(func(c *Config) { c.MaxBlobSize = 10_000 })
	small := tn.store(randomBytes(t, 10_000), 5, false)
	big := tn.store(randomBytes(t, 10_001), 5, false)
	if resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+small.id.String()); resp.StatusCode != http.StatusOK || !bytes.Equal(body, small.data) {
		t.Fatalf("blob at the limit: %d", resp.StatusCode)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, path := range []string{"/v1/blobs/" + big.id.String(), "/v1/blobs/by-object-id/" + big.rec.ObjectID.String(), "/v1/blobs/" + big.id.String() + "/byte-range?start=0&length=1"} {
			resp, body := get(t, method, agg.url+path)
			if method == http.MethodHead {
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("HEAD %s: %d", path, resp.StatusCode)
				}
				continue
			}
			wantError(t, resp, body, http.StatusForbidden, reasonBlobTooLarge)
		}
	}
}

func TestHeadRoutes(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	b := tn.store(randomBytes(t, 12_345), 5, false)
	for path, length := range map[string]int64{
		"/v1/blobs/by-object-id/" + b.rec.ObjectID.String():           12_345,
		"/v1/blobs/" + b.id.String() + "/byte-range?start=5&length=7": 7,
	} {
		resp, body := get(t, http.MethodHead, agg.url+path)
		if resp.StatusCode != http.StatusOK || resp.ContentLength != length || len(body) != 0 {
			t.Errorf("HEAD %s: %d, length %d", path, resp.StatusCode, resp.ContentLength)
		}
	}
	resp, _ := get(t, http.MethodHead, agg.url+"/v1/blobs/"+b.id.String()+"/byte-range?start=12345&length=1")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("HEAD of a range outside the blob: %d", resp.StatusCode)
	}
}
