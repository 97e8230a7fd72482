package walrusapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// The wire form, byte for byte: field names, order and which are omitted
// (spec §2.1).
func TestBlobStoreResultJSON(t *testing.T) {
	certified := chain.Epoch(3)
	rec := chain.BlobRecord{
		ObjectID: chain.ObjectID{0xab}, BlobID: codec.BlobID{1}, UnencodedSize: 17, EncodingType: chain.EncodingRS2,
		EncodedSize: 66034000, RegisteredEpoch: 3, CertifiedEpoch: &certified, EndEpoch: 5, Deletable: true,
	}
	storage := StorageObjectID(rec.ObjectID)
	if storage == rec.ObjectID {
		t.Fatal("the storage resource has the Blob object's ID")
	}
	ev := chain.EventID{TxDigest: chain.Digest{7}, EventSeq: 2}
	evJSON, _ := json.Marshal(ev)
	obj := rec.ObjectID
	tests := []struct {
		name string
		r    BlobStoreResult
		want string
	}{
		{"newlyCreated", BlobStoreResult{NewlyCreated: &NewlyCreated{
			BlobObject: BlobObjectOf(rec), ResourceOperation: RegisterFromScratchOp(66034000, 2), Cost: 132300,
		}}, `{"newlyCreated":{"blobObject":{"id":"` + obj.String() + `","registeredEpoch":3,"blobId":"` + rec.BlobID.String() +
			`","size":17,"encodingType":"RS2","certifiedEpoch":3,"storage":{"id":"` + storage.String() +
			`","startEpoch":3,"endEpoch":5,"storageSize":66034000},"deletable":true},` +
			`"resourceOperation":{"registerFromScratch":{"encodedLength":66034000,"epochsAhead":2}},"cost":132300}}`},
		{"newlyCreated, shared, uncertified", BlobStoreResult{NewlyCreated: &NewlyCreated{
			BlobObject: BlobObject{ID: obj, BlobID: rec.BlobID, EncodingType: "RS2"}, SharedBlobObject: &obj,
		}}, `{"newlyCreated":{"blobObject":{"id":"` + obj.String() + `","registeredEpoch":0,"blobId":"` + rec.BlobID.String() +
			`","size":0,"encodingType":"RS2","certifiedEpoch":null,"storage":{"id":"0x` + strings.Repeat("00", 32) +
			`","startEpoch":0,"endEpoch":0,"storageSize":0},"deletable":false},"cost":0,"sharedBlobObject":"` + obj.String() + `"}}`},
		{"alreadyCertified by event", BlobStoreResult{AlreadyCertified: AlreadyCertifiedOf(rec.BlobID, &chain.StoredBy{Event: &ev, EndEpoch: 9})},
			`{"alreadyCertified":{"blobId":"` + rec.BlobID.String() + `","event":` + string(evJSON) + `,"endEpoch":9}}`},
		{"alreadyCertified by object", BlobStoreResult{AlreadyCertified: AlreadyCertifiedOf(rec.BlobID, &chain.StoredBy{Object: &obj, EndEpoch: 9})},
			`{"alreadyCertified":{"blobId":"` + rec.BlobID.String() + `","object":"` + obj.String() + `","endEpoch":9}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkWire[BlobStoreResult](t, tt.r, tt.want) })
	}
}

// A resource operation haulout does not make is passed on as received.
func TestResourceOperationKeptRaw(t *testing.T) {
	in := `{"newlyCreated":{"blobObject":{"id":"0x` + strings.Repeat("11", 32) + `","registeredEpoch":1,"blobId":"` + codec.BlobID{2}.String() +
		`","size":1,"encodingType":"RS2","certifiedEpoch":1,"storage":{"id":"0x` + strings.Repeat("22", 32) +
		`","startEpoch":1,"endEpoch":4,"storageSize":9},"deletable":false},"resourceOperation":{"reuseAndExtend":{"encodedLength":9,"epochsExtended":2}},"cost":5}}`
	var r BlobStoreResult
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.NewlyCreated == nil || string(r.NewlyCreated.ResourceOperation) != `{"reuseAndExtend":{"encodedLength":9,"epochsExtended":2}}` ||
		r.NewlyCreated.BlobObject.Storage.EndEpoch != 4 {
		t.Fatalf("decoded %+v", r.NewlyCreated)
	}
	if out, _ := json.Marshal(r); string(out) != in {
		t.Errorf("\n got %s\nwant %s", out, in)
	}
}

// checkWire checks that v marshals to exactly want and that want reads back
// as a T that marshals to the same bytes.
func checkWire[T any](t *testing.T, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("\n got %s\nwant %s", b, want)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); string(b2) != want {
		t.Errorf("round trip:\n got %s\nwant %s", b2, want)
	}
}
