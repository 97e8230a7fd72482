package walrusapi

import "github.com/haulout/haulout/codec"

// QuiltStoreResult is Walrus's answer to a quilt store (PUT /v1/quilts,
// spec §2.2): the store of the quilt blob, whose blob ID is the quilt ID,
// and the files it holds in quilt order. StoredQuiltBlobs is [] (never
// null) when the store failed; QuiltStoreResultOf makes it so.
type QuiltStoreResult struct {
	BlobStoreResult  BlobStoreResult    `json:"blobStoreResult"`
	StoredQuiltBlobs []StoredQuiltPatch `json:"storedQuiltBlobs"`
}

// StoredQuiltPatch is one file of a stored quilt: its identifier, its patch
// ID and the columns [start, end) it occupies. Walrus omits the range when
// it does not know it; haulout's publisher always sends it. Walrus types it
// as two u64s, but quilt V1 columns are u16s, as in the patch ID.
type StoredQuiltPatch struct {
	Identifier   string             `json:"identifier"`
	QuiltPatchID codec.QuiltPatchID `json:"quiltPatchId"`
	Range        *[2]uint16         `json:"range,omitempty"`
}

// StoredQuiltPatchOf is the entry of the patch with identifier and id, its
// range taken from id.
func StoredQuiltPatchOf(identifier string, id codec.QuiltPatchID) StoredQuiltPatch {
	return StoredQuiltPatch{Identifier: identifier, QuiltPatchID: id, Range: &[2]uint16{id.Patch.Start, id.Patch.End}}
}

// QuiltStoreResultOf is the answer for the quilt stored as res with the
// patches of quilt, in quilt order.
func QuiltStoreResultOf(res BlobStoreResult, quilt codec.BlobID, patches []codec.QuiltPatch) QuiltStoreResult {
	stored := make([]StoredQuiltPatch, len(patches))
	for i := range patches {
		stored[i] = StoredQuiltPatchOf(patches[i].Identifier, patches[i].ID(quilt))
	}
	return QuiltStoreResult{BlobStoreResult: res, StoredQuiltBlobs: stored}
}
