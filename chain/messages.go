package chain

import (
	"fmt"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/codec"
)

// BlobPersistence is Walrus's BlobPersistenceType: permanent, or deletable
// with the object ID of the Blob object (BCS enum: 0, or 1 followed by the
// 32-byte ID).
type BlobPersistence struct {
	Deletable bool
	ObjectID  ObjectID // only for deletable
}

// PersistencePermanent returns the permanent persistence type.
func PersistencePermanent() BlobPersistence { return BlobPersistence{} }

// PersistenceDeletable returns the deletable persistence type of object id.
func PersistenceDeletable(id ObjectID) BlobPersistence {
	return BlobPersistence{Deletable: true, ObjectID: id}
}

// String returns "permanent" or "deletable(0x...)".
func (p BlobPersistence) String() string {
	if p.Deletable {
		return "deletable(" + p.ObjectID.String() + ")"
	}
	return "permanent"
}

func (p BlobPersistence) appendBCS(dst []byte) []byte {
	if !p.Deletable {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return append(dst, p.ObjectID[:]...)
}

// StorageConfirmation is the message a storage node signs once it holds all
// slivers of its shards for a blob: Walrus's Confirmation, intent type 1.
type StorageConfirmation struct {
	Epoch       Epoch
	BlobID      codec.BlobID
	Persistence BlobPersistence
}

// Bytes returns the BCS ProtocolMessage: intent (1, 0, 3) || epoch u32 LE ||
// blob ID (32 bytes) || persistence type (0, or 1 || object ID).
func (c StorageConfirmation) Bytes() []byte {
	b := make([]byte, 0, bls.HeaderSize+32+1+32)
	b = bls.NewHeader(bls.IntentBlobCertification, uint32(c.Epoch)).Append(b)
	b = append(b, c.BlobID[:]...)
	return c.Persistence.appendBCS(b)
}

// ParseStorageConfirmation decodes a storage confirmation. Like Walrus's
// contract, it ignores bytes after the persistence type (room for future
// fields). Errors wrap ErrInvalidMessage.
func ParseStorageConfirmation(msg []byte) (StorageConfirmation, error) {
	h, body, err := parseHeader(msg, bls.IntentBlobCertification)
	if err != nil {
		return StorageConfirmation{}, err
	}
	c := StorageConfirmation{Epoch: Epoch(h.Epoch)}
	if len(body) < 33 {
		return StorageConfirmation{}, fmt.Errorf("%w: storage confirmation body of %d bytes", ErrInvalidMessage, len(body))
	}
	copy(c.BlobID[:], body[:32])
	switch body[32] {
	case 0:
	case 1:
		if len(body) < 33+32 {
			return StorageConfirmation{}, fmt.Errorf("%w: deletable confirmation without object ID", ErrInvalidMessage)
		}
		c.Persistence = BlobPersistence{Deletable: true}
		copy(c.Persistence.ObjectID[:], body[33:65])
	default:
		return StorageConfirmation{}, fmt.Errorf("%w: persistence type %d", ErrInvalidMessage, body[32])
	}
	return c, nil
}

// InvalidBlobIDMessage is the message a storage node signs when it finds a
// blob inconsistently encoded: Walrus's InvalidBlobIdMsg, intent type 2.
type InvalidBlobIDMessage struct {
	Epoch  Epoch
	BlobID codec.BlobID
}

// Bytes returns the BCS ProtocolMessage: intent (2, 0, 3) || epoch u32 LE ||
// blob ID.
func (m InvalidBlobIDMessage) Bytes() []byte {
	b := make([]byte, 0, bls.HeaderSize+32)
	b = bls.NewHeader(bls.IntentInvalidBlobID, uint32(m.Epoch)).Append(b)
	return append(b, m.BlobID[:]...)
}

// ParseInvalidBlobIDMessage decodes an invalid-blob-ID message. Errors wrap
// ErrInvalidMessage.
func ParseInvalidBlobIDMessage(msg []byte) (InvalidBlobIDMessage, error) {
	h, body, err := parseHeader(msg, bls.IntentInvalidBlobID)
	if err != nil {
		return InvalidBlobIDMessage{}, err
	}
	if len(body) < 32 {
		return InvalidBlobIDMessage{}, fmt.Errorf("%w: invalid-blob-ID body of %d bytes", ErrInvalidMessage, len(body))
	}
	m := InvalidBlobIDMessage{Epoch: Epoch(h.Epoch)}
	copy(m.BlobID[:], body[:32])
	return m, nil
}

func parseHeader(msg []byte, want bls.IntentType) (bls.Header, []byte, error) {
	h, body, err := bls.ParseMessage(msg)
	if err != nil {
		return bls.Header{}, nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if h.Intent != want {
		return bls.Header{}, nil, fmt.Errorf("%w: intent type %d, want %d", ErrInvalidMessage, h.Intent, want)
	}
	return h, body, nil
}

// SignedMessage is a BCS message with one node's signature over it, in
// Walrus's JSON form {"serializedMessage": base64, "signature": base64}: what
// a storage node returns for a confirmation.
type SignedMessage struct {
	SerializedMessage []byte        `json:"serializedMessage"`
	Signature         bls.Signature `json:"signature"`
}

// Sign signs msg with key.
func Sign(key *bls.PrivateKey, msg []byte) SignedMessage {
	return SignedMessage{SerializedMessage: msg, Signature: key.Sign(msg)}
}

// Verify checks the signature under pk. Errors wrap ErrInvalidSignature.
func (m SignedMessage) Verify(pk bls.PublicKey) error {
	if err := bls.Verify(pk, m.SerializedMessage, m.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return nil
}
