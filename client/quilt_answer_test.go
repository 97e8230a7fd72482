package client

import (
	"strings"
	"testing"

	"github.com/haulout/haulout/codec"
)

// A quilt answer as Walrus's publisher sends it (a patch without range):
// the patches are decoded with walrusapi's shape and the blob store result
// is kept byte for byte, as for a blob.
func TestParseQuiltStoreResult(t *testing.T) {
	quilt := codec.BlobID{9, 8, 7}
	p0 := codec.QuiltPatchID{Quilt: quilt, Patch: codec.QuiltPatchInternalID{Start: 1, End: 208}}
	p1 := codec.QuiltPatchID{Quilt: quilt, Patch: codec.QuiltPatchInternalID{Start: 208, End: 635}}
	inner := `{"alreadyCertified":{"blobId":"` + quilt.String() + `", "endEpoch":4}}`
	raw := `{"blobStoreResult":` + inner + `,"storedQuiltBlobs":[{"identifier":"a","quiltPatchId":"` + p0.String() +
		`","range":[1,208]},{"identifier":"b","quiltPatchId":"` + p1.String() + `"}]}`
	res, err := parseQuiltStoreResult([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if res.QuiltID() != quilt || string(res.Raw) != raw || string(res.BlobStoreResult.Raw) != inner || res.BlobStoreResult.EndEpoch() != 4 {
		t.Errorf("result %+v, blob store result %s", res, res.BlobStoreResult.Raw)
	}
	ps := res.StoredQuiltBlobs
	if len(ps) != 2 || ps[0].Identifier != "a" || ps[0].QuiltPatchID != p0 || ps[0].Range == nil || *ps[0].Range != [2]uint16{1, 208} ||
		ps[1].Identifier != "b" || ps[1].QuiltPatchID != p1 || ps[1].Range != nil {
		t.Errorf("patches %+v", ps)
	}

	for _, bad := range []string{
		`{"blobStoreResult":{"markedInvalid":{}},"storedQuiltBlobs":[]}`,
		`{"blobStoreResult":` + inner + `,"storedQuiltBlobs":[{"identifier":"a","quiltPatchId":"nope"}]}`,
		`[]`,
	} {
		if res, err := parseQuiltStoreResult([]byte(bad)); err == nil {
			t.Errorf("%s: decoded %+v", bad, res)
		} else if !strings.Contains(err.Error(), "decode") && !strings.Contains(err.Error(), "variant") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
