package walrusapi

import (
	"encoding/json"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// The wire form of a quilt store's answer, byte for byte (spec §2.2).
func TestQuiltStoreResultJSON(t *testing.T) {
	quilt := codec.BlobID{9, 8, 7}
	patches := []codec.QuiltPatch{{Identifier: "another_walrus.jpg", Start: 1, End: 208}, {Identifier: "walrus.jpg", Start: 208, End: 635}}
	// The patch IDs as Walrus writes them: base64url of the quilt ID, then
	// version 1 and the columns as u16 LE.
	id0 := codec.QuiltPatchID{Quilt: quilt, Patch: codec.QuiltPatchInternalID{Start: 1, End: 208}}.String()
	id1 := codec.QuiltPatchID{Quilt: quilt, Patch: codec.QuiltPatchInternalID{Start: 208, End: 635}}.String()
	if id0 != "CQgHAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAQDQAA" || id1 != "CQgHAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB0AB7Ag" {
		t.Fatalf("patch IDs %s %s", id0, id1)
	}
	certified := AlreadyCertifiedOf(quilt, &chain.StoredBy{Object: &chain.ObjectID{1}, EndEpoch: 4})
	obj := chain.ObjectID{1}.String()
	tests := []struct {
		name string
		r    QuiltStoreResult
		want string
	}{
		{"two patches", QuiltStoreResultOf(BlobStoreResult{AlreadyCertified: certified}, quilt, patches),
			`{"blobStoreResult":{"alreadyCertified":{"blobId":"` + quilt.String() + `","object":"` + obj + `","endEpoch":4}},"storedQuiltBlobs":[` +
				`{"identifier":"another_walrus.jpg","quiltPatchId":"` + id0 + `","range":[1,208]},` +
				`{"identifier":"walrus.jpg","quiltPatchId":"` + id1 + `","range":[208,635]}]}`},
		// No patches is [], never null.
		{"no patches", QuiltStoreResultOf(BlobStoreResult{AlreadyCertified: certified}, quilt, nil),
			`{"blobStoreResult":{"alreadyCertified":{"blobId":"` + quilt.String() + `","object":"` + obj + `","endEpoch":4}},"storedQuiltBlobs":[]}`},
		// Walrus leaves out a range it does not know.
		{"no range", QuiltStoreResult{BlobStoreResult: BlobStoreResult{AlreadyCertified: certified}, StoredQuiltBlobs: []StoredQuiltPatch{
			{Identifier: "walrus.jpg", QuiltPatchID: patches[1].ID(quilt)}}},
			`{"blobStoreResult":{"alreadyCertified":{"blobId":"` + quilt.String() + `","object":"` + obj + `","endEpoch":4}},"storedQuiltBlobs":[` +
				`{"identifier":"walrus.jpg","quiltPatchId":"` + id1 + `"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkWire[QuiltStoreResult](t, tt.r, tt.want) })
	}
}

// A patch ID that is not one is refused when an answer is read.
func TestStoredQuiltPatchBadID(t *testing.T) {
	var p StoredQuiltPatch
	if err := json.Unmarshal([]byte(`{"identifier":"a","quiltPatchId":"nope","range":[1,2]}`), &p); err == nil {
		t.Fatalf("decoded %+v", p)
	}
}
