package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
)

// TestQuilt stores a quilt through the publisher and reads its patches
// back through the aggregator, by identifier and by patch ID.
func TestQuilt(t *testing.T) {
	tn := newTestNet(t, 3, 3, 4)
	ctx := context.Background()
	contents := map[string][]byte{
		"/index.html": []byte("<!doctype html><p>hi</p>"),
		"data.bin":    randomBlob(7, 50_000),
		"empty":       {},
	}
	tags := map[string]map[string]string{"/index.html": {"content-type": "text/html", "n": "1"}}
	var files []client.QuiltFile
	for _, id := range []string{"data.bin", "/index.html", "empty"} {
		files = append(files, client.QuiltFile{Identifier: id, Tags: tags[id], Body: bytes.NewReader(contents[id])})
	}
	var sent int64
	res, err := tn.pub.StoreQuilt(ctx, files, client.StoreOptions{Epochs: 2, Progress: func(n int64) { sent = n }})
	if err != nil {
		t.Fatal(err)
	}
	if res.BlobStoreResult.NewlyCreated == nil || len(res.StoredQuiltBlobs) != 3 || len(res.Raw) == 0 || sent == 0 {
		t.Fatalf("store: %+v (sent %d)", res, sent)
	}
	quilt := res.QuiltID()
	// Walrus lays patches out sorted by identifier.
	for i, want := range []string{"/index.html", "data.bin", "empty"} {
		p := res.StoredQuiltBlobs[i]
		if p.Identifier != want || p.QuiltPatchID.Quilt != quilt || p.Range == nil ||
			p.Range[0] != p.QuiltPatchID.Patch.Start || p.Range[1] != p.QuiltPatchID.Patch.End {
			t.Errorf("stored patch %d: %+v", i, p)
		}
	}

	list, err := tn.agg.ListPatches(ctx, quilt)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("list: %+v", list)
	}
	for i, p := range list {
		if p.Identifier != res.StoredQuiltBlobs[i].Identifier || p.PatchID != res.StoredQuiltBlobs[i].QuiltPatchID || len(p.Tags) != len(tags[p.Identifier]) {
			t.Errorf("list %d: %+v", i, p)
		}
		var byID, byName bytes.Buffer
		info, err := tn.agg.ReadPatch(ctx, p.PatchID, &byID)
		if err != nil || info.Identifier != p.Identifier || !bytes.Equal(byID.Bytes(), contents[p.Identifier]) {
			t.Fatalf("read %s by patch ID: %v %+v %d bytes", p.Identifier, err, info, byID.Len())
		}
		info, err = tn.agg.ReadPatchByIdentifier(ctx, quilt, p.Identifier, &byName)
		if err != nil || info.Identifier != p.Identifier || !bytes.Equal(byName.Bytes(), contents[p.Identifier]) || info.Size != int64(len(contents[p.Identifier])) {
			t.Fatalf("read %s by identifier: %v %+v", p.Identifier, err, info)
		}
		if p.Identifier == "/index.html" && info.Header.Get("Content-Type") != "text/html" {
			t.Errorf("content-type tag not served: %v", info.Header)
		}
	}

	// Errors are Walrus's envelope, parsed.
	_, err = tn.agg.ReadPatchByIdentifier(ctx, quilt, "missing", &bytes.Buffer{})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusNotFound || ae.Reason != "QUILT_PATCH_NOT_FOUND" || !client.IsNotFound(err) {
		t.Errorf("missing patch: %v", err)
	}
	if _, err := tn.agg.ListPatches(ctx, codec.BlobID{1}); !errors.As(err, &ae) || ae.Reason != "BLOB_NOT_FOUND" {
		t.Errorf("unknown quilt: %v", err)
	}

	// Refused before anything is sent.
	for name, bad := range map[string][]client.QuiltFile{
		"none":      nil,
		"duplicate": {{Identifier: "a", Body: strings.NewReader("x")}, {Identifier: "a", Body: strings.NewReader("y")}},
		"reserved":  {{Identifier: "_metadata", Body: strings.NewReader("x")}},
		"invalid":   {{Identifier: "trailing ", Body: strings.NewReader("x")}},
	} {
		if _, err := tn.pub.StoreQuilt(ctx, bad, client.StoreOptions{}); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	// Refused by the publisher: the envelope comes back.
	_, err = tn.pub.StoreQuilt(ctx, []client.QuiltFile{{Identifier: "a", Body: strings.NewReader("x")}}, client.StoreOptions{Permanent: true, Deletable: true})
	if !errors.As(err, &ae) || ae.Code != http.StatusBadRequest {
		t.Errorf("permanent and deletable: %v", err)
	}
}
