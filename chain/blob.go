package chain

import (
	"encoding/binary"
	"fmt"
	"maps"

	"golang.org/x/crypto/blake2b"

	"github.com/haulout/haulout/codec"
)

// EncodingType is Walrus's encoding enum. Only RS2 is accepted; 0 (the
// deprecated RaptorQ RedStuff) is refused. In JSON it is the number, as on
// chain.
type EncodingType uint8

// EncodingRS2 is RedStuff over Reed-Solomon, the only supported encoding.
const EncodingRS2 EncodingType = 1

// String returns "RS2" or a description of an unknown value.
func (e EncodingType) String() string {
	if e == EncodingRS2 {
		return "RS2"
	}
	return fmt.Sprintf("EncodingType(%d)", uint8(e))
}

// Sizes from Walrus's RedStuff accounting (contracts/walrus/sources/system/redstuff.move).
const (
	digestLen = 32
	blobIDLen = 32
	// maxSymbolSize is the largest even u16: symbols are u16-sized and even.
	maxSymbolSize = 0xfffe
)

func sourceSymbols(nShards uint16) (primary, secondary uint64) {
	f := uint64(MaxFaulty(nShards))
	return uint64(nShards) - 2*f, uint64(nShards) - f
}

// symbolSize is the RedStuff symbol size for a blob, or an error wrapping
// ErrInvalidSize when the blob is too large for the committee.
func symbolSize(unencoded uint64, nShards uint16) (uint64, error) {
	if nShards == 0 {
		return 0, fmt.Errorf("%w: no shards", ErrInvalidSize)
	}
	p, s := sourceSymbols(nShards)
	if unencoded == 0 {
		unencoded = 1
	}
	size := (unencoded-1)/(p*s) + 1
	if size%2 == 1 {
		size++
	}
	if size > maxSymbolSize {
		return 0, fmt.Errorf("%w: %d bytes is more than %d shards can hold (%d)", ErrInvalidSize, unencoded, nShards, MaxBlobSize(nShards))
	}
	return size, nil
}

// MaxBlobSize returns the largest unencoded blob that nShards shards hold.
func MaxBlobSize(nShards uint16) uint64 {
	if nShards == 0 {
		return 0
	}
	p, s := sourceSymbols(nShards)
	return p * s * maxSymbolSize
}

// EncodedBlobLength returns the storage a blob takes on nShards shards, as
// Walrus accounts it: every shard holds one primary and one secondary sliver
// (k1+k2 symbols) plus the metadata (two hashes per shard and the blob ID).
// Errors wrap ErrInvalidSize.
func EncodedBlobLength(unencoded uint64, nShards uint16) (uint64, error) {
	sym, err := symbolSize(unencoded, nShards)
	if err != nil {
		return 0, err
	}
	p, s := sourceSymbols(nShards)
	n := uint64(nShards)
	return n * ((p+s)*sym + n*digestLen*2 + blobIDLen), nil
}

// DeriveBlobID returns Blake2b-256 over encoding type || unencoded size (u64
// LE) || root hash: the blob ID that commits to the three, as Walrus's
// contract checks at registration.
func DeriveBlobID(root Hash, enc EncodingType, unencoded uint64) codec.BlobID {
	var buf [1 + 8 + 32]byte
	buf[0] = byte(enc)
	binary.LittleEndian.PutUint64(buf[1:9], unencoded)
	copy(buf[9:], root[:])
	return codec.BlobID(blake2b.Sum256(buf[:]))
}

// RegisterRequest asks to register a blob: to create a Blob object that
// reserves storage for it until EndEpoch.
type RegisterRequest struct {
	BlobID codec.BlobID `json:"blobId"`
	// RootHash is the Merkle root over the sliver pairs of the blob's
	// metadata; the blob ID must commit to it (DeriveBlobID).
	RootHash      Hash         `json:"rootHash"`
	UnencodedSize uint64       `json:"unencodedSize"`
	EncodingType  EncodingType `json:"encodingType"`
	// EncodedSize is the storage reserved; at least EncodedBlobLength.
	EncodedSize uint64 `json:"encodedSize"`
	// EndEpoch is the first epoch in which the blob is no longer stored;
	// current < EndEpoch <= current + max epochs ahead.
	EndEpoch  Epoch `json:"endEpoch"`
	Deletable bool  `json:"deletable"`
}

// BlobRecord is the state of one Blob object. Several objects may exist for
// one blob ID; BlobStatus aggregates them.
type BlobRecord struct {
	ObjectID        ObjectID     `json:"objectId"`
	BlobID          codec.BlobID `json:"blobId"`
	UnencodedSize   uint64       `json:"unencodedSize"`
	EncodingType    EncodingType `json:"encodingType"`
	EncodedSize     uint64       `json:"encodedSize"`
	RegisteredEpoch Epoch        `json:"registeredEpoch"`
	// CertifiedEpoch is the epoch of the certification, nil until then.
	CertifiedEpoch *Epoch `json:"certifiedEpoch"`
	// EndEpoch is the first epoch in which the blob is no longer stored.
	EndEpoch  Epoch `json:"endEpoch"`
	Deletable bool  `json:"deletable"`
	Deleted   bool  `json:"deleted"`
	// Attributes are the object's metadata key/value pairs.
	Attributes    map[string]string `json:"attributes,omitempty"`
	RegisterEvent EventID           `json:"registerEvent"`
	// CertifyEvent is zero until the object is certified.
	CertifyEvent EventID `json:"certifyEvent,omitzero"`
	// StatusEvent is the event that gave the object its current end epoch
	// and certification: registration, certification or latest extension.
	StatusEvent EventID `json:"statusEvent"`
}

// Certified reports whether the object has been certified.
func (r *BlobRecord) Certified() bool { return r.CertifiedEpoch != nil }

// Expired reports whether the object's storage has ended by epoch current.
func (r *BlobRecord) Expired(current Epoch) bool { return r.EndEpoch <= current }

// Live reports whether the object counts in epoch current: neither deleted
// nor expired.
func (r *BlobRecord) Live(current Epoch) bool { return !r.Deleted && !r.Expired(current) }

// Persistence returns the persistence type that storage confirmations for
// this object must carry.
func (r *BlobRecord) Persistence() BlobPersistence {
	if r.Deletable {
		return PersistenceDeletable(r.ObjectID)
	}
	return PersistencePermanent()
}

// Clone returns a deep copy of r.
func (r BlobRecord) Clone() BlobRecord {
	if r.CertifiedEpoch != nil {
		e := *r.CertifiedEpoch
		r.CertifiedEpoch = &e
	}
	r.Attributes = maps.Clone(r.Attributes)
	return r
}
