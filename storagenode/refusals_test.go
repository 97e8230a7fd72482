package storagenode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
)

func TestRefusedUploadsAndReads(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 3, 3, 2, 2)
	ctx := t.Context()
	c := tn.nodes[0].client
	b := tn.register(randomBytes(t, 30_000), 2, false)
	noMD := tn.register(randomBytes(t, 30_000), 2, false)
	unregistered, err := tn.code.Encode(randomBytes(t, 30_000))
	if err != nil {
		t.Fatal(err)
	}
	own := tn.pairsOf(0, b.id)[0]
	var foreign uint16
	for p := range uint16(tn.nShards) {
		if tn.ownerOf(b.id, p) != 0 {
			foreign = p
			break
		}
	}
	other := tn.pairsOf(0, b.id)[1]
	sliver := func(p uint16) *codec.Sliver { pr, _ := b.enc.Pair(int(p)); return pr }
	mutate := func(s *codec.Sliver, f func(*codec.Sliver)) *codec.Sliver {
		cp := *s
		cp.Data = append([]byte(nil), s.Data...)
		f(&cp)
		return &cp
	}

	// Metadata.
	wantReason(t, c.PutMetadata(ctx, unregistered.Metadata.ID, &unregistered.Metadata.BlobMetadata), reasonNotRegistered, 400)
	bad := b.enc.Metadata.BlobMetadata
	bad.Hashes = append([]codec.SliverPairMetadata(nil), bad.Hashes...)
	bad.Hashes[3].Secondary.Digest[7] ^= 1
	wantReason(t, c.PutMetadata(ctx, b.id, &bad), reasonInvalidMetadata, 400)
	wantReason(t, c.PutMetadata(ctx, b.id, &noMD.enc.Metadata.BlobMetadata), reasonInvalidMetadata, 400)
	_, err = c.GetMetadata(ctx, b.id)
	wantReason(t, err, reasonMetadataNotFound, 404)
	// Slivers before their metadata, or of unregistered blobs.
	pr, _ := noMD.enc.Pair(int(tn.pairsOf(0, noMD.id)[0]))
	wantReason(t, c.PutSliver(ctx, noMD.id, pr.Index, pr), reasonMetadataNotFound, 400)
	upr, _ := unregistered.Pair(0)
	wantReason(t, c.PutSliver(ctx, unregistered.Metadata.ID, 0, upr), reasonNotRegistered, 400)
	// A large body is refused before it is read, and the client still
	// gets the answer.
	large := &codec.Sliver{Axis: codec.Primary, Index: 0, SymbolSize: 2, Data: make([]byte, 450_000)}
	for range 3 {
		wantReason(t, c.PutSliver(ctx, unregistered.Metadata.ID, 0, large), reasonNotRegistered, 400)
	}

	if err := c.PutMetadata(ctx, b.id, &b.enc.Metadata.BlobMetadata); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		pair   uint16
		sliver *codec.Sliver
		reason string
	}{
		{"bad hash", own, mutate(sliver(own), func(s *codec.Sliver) { s.Data[10] ^= 0x80 }), reasonInvalidSliver},
		{"wrong index", own, sliver(other), reasonIndexMismatch},
		{"wrong shard", foreign, sliver(foreign), reasonShardNotAssigned},
		{"too short", own, mutate(sliver(own), func(s *codec.Sliver) { s.Data = s.Data[:len(s.Data)-int(s.SymbolSize)] }), reasonInvalidSliver},
		{"wrong symbol size", own, mutate(sliver(own), func(s *codec.Sliver) { s.SymbolSize /= 2 }), reasonInvalidSliver},
		{"index out of range", own, mutate(sliver(own), func(s *codec.Sliver) { s.Index = 200 }), reasonIndexOutOfRange},
		{"pair out of range", uint16(tn.nShards), sliver(own), reasonIndexOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantReason(t, c.PutSliver(ctx, b.id, tc.pair, tc.sliver), tc.reason, 400)
			_, err := c.PutSlivers(ctx, b.id, []nodeclient.BatchSliver{{Pair: tc.pair, Sliver: tc.sliver}})
			wantReason(t, err, tc.reason, 400)
		})
	}
	// Reads of what is not there.
	_, err = c.GetSliver(ctx, b.id, own, codec.Primary)
	wantReason(t, err, reasonSliverNotFound, 404)
	_, err = c.GetSliver(ctx, b.id, foreign, codec.Primary)
	wantReason(t, err, reasonShardNotAssigned, 400)
	_, err = c.GetMetadata(ctx, unregistered.Metadata.ID)
	wantReason(t, err, reasonMetadataNotFound, 404)
	// Confirmations of what is not registered so.
	_, err = c.Confirmation(ctx, unregistered.Metadata.ID, chain.PersistencePermanent())
	wantReason(t, err, reasonNotRegistered, 400)
	_, err = c.Confirmation(ctx, b.id, chain.PersistenceDeletable(chain.ObjectID{1}))
	wantReason(t, err, reasonNotRegistered, 400)
	// A batch with more slivers than the node's shards hold (secondary
	// ones, small enough to pass the body limit).
	var many []nodeclient.BatchSliver
	_, sec := b.enc.Pair(int(own))
	for range 7 {
		many = append(many, nodeclient.BatchSliver{Pair: own, Sliver: sec})
	}
	_, err = c.PutSlivers(ctx, b.id, many)
	wantReason(t, err, reasonSliverCount, 400)
	// A batch that stops at a bad sliver reports which.
	good := tn.slivers(0, b)
	corrupt := nodeclient.BatchSliver{Pair: good[0].Pair, Sliver: mutate(good[0].Sliver, func(s *codec.Sliver) { s.Data[0] ^= 1 })}
	mixed := append([]nodeclient.BatchSliver{good[1], corrupt}, good[2:]...)
	_, err = c.PutSlivers(ctx, b.id, mixed)
	wantReason(t, err, reasonInvalidSliver, 400)
	var ae *apierr.Error
	if errors.As(err, &ae); ae.Metadata["sliverPairIndex"] != itoa(int(good[0].Pair)) || ae.Metadata["sliverType"] != "primary" {
		t.Fatalf("the error does not name the bad sliver: %v", ae.Metadata)
	}
	// The batch is all or nothing below the chunk size: nothing was stored.
	if st, err := c.SliverStatus(ctx, b.id, good[1].Pair, good[1].Sliver.Axis); err != nil || st != nodeclient.Nonexistent {
		t.Fatalf("status of a sliver of the refused batch: %q, %v", st, err)
	}
	// Recovery-symbol filters.
	_, err = c.RecoverySymbolsByID(ctx, b.id, nil, nil)
	wantReason(t, err, reasonNoSymbols, 400)
}

// TestMalformedRequests sends what no client library would: bad URLs,
// content types and bodies, and checks Walrus's envelope (or, for what
// Walrus's framework answers itself, its status).
func TestMalformedRequests(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 3, 3, 2, 2)
	ctx := t.Context()
	b := tn.register(randomBytes(t, 30_000), 2, false)
	if err := tn.nodes[0].client.PutMetadata(ctx, b.id, &b.enc.Metadata.BlobMetadata); err != nil {
		t.Fatal(err)
	}
	base := tn.nodes[0].url + "/v1/blobs/" + b.id.String()
	own := tn.pairsOf(0, b.id)[0]
	pr, _ := b.enc.Pair(int(own))
	ownURL := base + "/slivers/" + itoa(int(own)) + "/primary"
	maxSliver := tn.code.MaxSliverSize()

	for _, tc := range []struct {
		name, method, url, contentType string
		body                           []byte
		code                           int
		reason                         string // "" for a non-envelope answer
	}{
		{"bad blob ID", "GET", tn.nodes[0].url + "/v1/blobs/not-a-blob-id/metadata", "", nil, 400, reasonInvalidBlobID},
		{"short blob ID", "PUT", tn.nodes[0].url + "/v1/blobs/AAAA/metadata", "", []byte{0}, 400, reasonInvalidBlobID},
		{"bad axis", "GET", base + "/slivers/1/tertiary", "", nil, 400, reasonInvalidAxis},
		{"bad pair", "GET", base + "/slivers/x/primary", "", nil, 400, reasonInvalidPair},
		{"pair beyond u16", "GET", base + "/slivers/70000/primary", "", nil, 400, reasonInvalidPair},
		{"pair beyond n_shards", "GET", base + "/slivers/10/primary", "", nil, 400, reasonIndexOutOfRange},
		{"text content type", "PUT", ownURL, "text/plain", pr.MarshalBCS(), 400, reasonContentType},
		{"octet-stream with parameters", "PUT", ownURL, "application/octet-stream; charset=binary", pr.MarshalBCS(), 201, ""},
		{"garbage sliver", "PUT", base + "/slivers/" + itoa(int(own)) + "/secondary", "", []byte{0xff, 0xff, 0xff}, 400, reasonContentType},
		{"trailing bytes", "PUT", base + "/slivers/" + itoa(int(own)) + "/secondary", "", append(pr.MarshalBCS(), 0), 400, reasonContentType},
		{"garbage metadata", "PUT", base + "/metadata", "application/octet-stream", []byte{1, 2, 3}, 400, reasonContentType},
		{"garbage batch", "PUT", base + "/slivers", "", []byte{0x85}, 400, reasonContentType},
		{"batch sliver larger than the blob's", "PUT", base + "/slivers", "", batchHeader(own, 0, 1<<20), 400, reasonInvalidSliver},
		{"oversized sliver", "PUT", ownURL, "", make([]byte, maxSliver+sliverBodySlack+1), 413, ""},
		{"oversized metadata", "PUT", base + "/metadata", "", make([]byte, 10*66+200), 413, ""},
		{"bad object ID", "GET", base + "/confirmation/deletable/0xzz", "", nil, 400, reasonInvalidObjectID},
		{"bad pending flag", "PUT", ownURL + "?pending=maybe", "", pr.MarshalBCS(), 400, reasonInvalidQuery},
		{"bad target type", "GET", base + "/recoverySymbols?targetSliver=1&targetType=up", "", nil, 400, reasonInvalidFilter},
		{"bad symbol ID", "GET", base + "/recoverySymbols?id=1+2", "", nil, 400, reasonInvalidFilter},
		{"unknown route", "GET", tn.nodes[0].url + "/v1/nowhere", "", nil, 404, ""},
		{"wrong method", "POST", base + "/metadata", "", nil, 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, tc.method, tc.url, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := tn.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, body)
			}
			if tc.reason == "" {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			e := apierr.Parse(resp.StatusCode, bytes.NewReader(body))
			if e.Reason != tc.reason || e.Domain != apierr.DomainStorage {
				t.Fatalf("reason %s in %s, want %s: %s", e.Reason, e.Domain, tc.reason, body)
			}
		})
	}
}

// batchHeader is the start of a batch body announcing one sliver of n
// bytes.
func batchHeader(pair uint16, axis byte, n int) []byte {
	b := []byte{1}
	b = binary.LittleEndian.AppendUint16(b, pair)
	b = append(b, axis)
	return binary.AppendUvarint(b, uint64(n))
}

func TestCORSAndHEAD(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 4)
	b := tn.store(randomBytes(t, 1000), 2, false)
	url := tn.nodes[0].url + "/v1/blobs/" + b.id.String() + "/slivers/0/primary"

	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", "https://example.org")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := tn.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Headers") != "content-type" ||
		h.Get("Access-Control-Allow-Methods") == "" || h.Get("Access-Control-Max-Age") != "86400" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}

	req, _ = http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Origin", "https://example.org")
	resp, err = tn.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || len(body) == 0 {
		t.Fatalf("GET with Origin: %d %v", resp.StatusCode, resp.Header)
	}

	resp, err = tn.hc.Head(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(b.enc.Primary[0].Data)+len(b.enc.Primary[0].MarshalBCS())-len(b.enc.Primary[0].Data)) {
		t.Fatalf("HEAD: %d, %d bytes, length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
}

func TestPanicIsAnInternalError(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 4)
	n := tn.nodes[0].node
	e := n.Handler().(*echo.Echo)
	e.GET("/boom", func(echo.Context) error { panic("disk on fire") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	got := apierr.Parse(rec.Code, rec.Body)
	if rec.Code != 500 || got.Reason != "INTERNAL_ERROR" || strings.Contains(got.Message, "fire") {
		t.Fatalf("%d %+v", rec.Code, got)
	}
	// The node still serves.
	if _, err := tn.nodes[0].client.Health(t.Context(), false); err != nil {
		t.Fatal(err)
	}
}
