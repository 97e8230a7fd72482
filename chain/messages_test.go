package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/codec"
)

func TestStorageConfirmationLayout(t *testing.T) {
	var blobID codec.BlobID
	for i := range blobID {
		blobID[i] = 7
	}
	var obj ObjectID
	for i := range obj {
		obj[i] = 42
	}
	permanent := StorageConfirmation{Epoch: 21, BlobID: blobID, Persistence: PersistencePermanent()}.Bytes()
	want := []byte{1, 0, 3, 21, 0, 0, 0}
	want = append(want, bytes.Repeat([]byte{7}, 32)...)
	want = append(want, 0)
	if !bytes.Equal(permanent, want) {
		t.Fatalf("permanent confirmation\n got %x\nwant %x", permanent, want)
	}

	deletable := StorageConfirmation{Epoch: 0x01020304, BlobID: blobID, Persistence: PersistenceDeletable(obj)}.Bytes()
	want = []byte{1, 0, 3, 0x04, 0x03, 0x02, 0x01}
	want = append(want, bytes.Repeat([]byte{7}, 32)...)
	want = append(want, 1)
	want = append(want, bytes.Repeat([]byte{42}, 32)...)
	if !bytes.Equal(deletable, want) {
		t.Fatalf("deletable confirmation\n got %x\nwant %x", deletable, want)
	}
	for i, b := range deletable {
		if b != want[i] {
			t.Fatalf("byte %d = %d, want %d", i, b, want[i])
		}
	}

	for _, msg := range [][]byte{permanent, deletable, append(bytes.Clone(permanent), 0xaa)} {
		c, err := ParseStorageConfirmation(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.Bytes(), msg[:len(c.Bytes())]) {
			t.Fatalf("round trip of %x gave %x", msg, c.Bytes())
		}
	}
}

func TestParseStorageConfirmationRefuses(t *testing.T) {
	good := StorageConfirmation{Epoch: 1, Persistence: PersistenceDeletable(ObjectID{1})}.Bytes()
	mut := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	tests := map[string][]byte{
		"invalid-blob intent": mut(0, 2),
		"pop intent":          mut(0, 0),
		"version":             mut(1, 1),
		"app id":              mut(2, 1),
		"persistence tag":     mut(39, 2),
		"no object id":        good[:40],
		"no persistence":      good[:39],
		"short":               good[:5],
	}
	for name, msg := range tests {
		if _, err := ParseStorageConfirmation(msg); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
}

func TestInvalidBlobIDMessage(t *testing.T) {
	m := InvalidBlobIDMessage{Epoch: 5, BlobID: codec.BlobID{0: 9, 31: 8}}
	b := m.Bytes()
	want := append([]byte{2, 0, 3, 5, 0, 0, 0}, m.BlobID[:]...)
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x want %x", b, want)
	}
	back, err := ParseInvalidBlobIDMessage(b)
	if err != nil || back != m {
		t.Fatalf("round trip %+v %v", back, err)
	}
	if _, err := ParseInvalidBlobIDMessage(StorageConfirmation{}.Bytes()); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("confirmation parsed as invalid-blob message: %v", err)
	}
}

func TestSignedMessageJSON(t *testing.T) {
	k, _ := bls.KeyFromSeed(bytes.Repeat([]byte{1}, 32))
	m := Sign(k, StorageConfirmation{Epoch: 1}.Bytes())
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back SignedMessage
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(k.PublicKey()); err != nil {
		t.Fatal(err)
	}
	back.SerializedMessage[3] = 2
	if err := back.Verify(k.PublicKey()); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("tampered: %v", err)
	}
	if !bytes.Contains(b, []byte(`"serializedMessage":"AQAD`)) {
		t.Fatalf("JSON is not Walrus's form: %s", b)
	}
}

func TestVerifyCertificate(t *testing.T) {
	c, keys := testCommittee(t, 1, 4, 3, 3) // 10 shards, quorum 7
	msg := StorageConfirmation{Epoch: 1, BlobID: codec.BlobID{1}}.Bytes()
	cert := func(signers ...uint16) Certificate {
		sigs := make([]bls.Signature, len(signers))
		for i, s := range signers {
			sigs[i] = keys[s].Sign(msg)
		}
		ct, err := NewCertificate(signers, msg, sigs)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	wrongKey := cert(0, 1)
	other, _ := bls.KeyFromSeed(bytes.Repeat([]byte{77}, 32))
	wrongKey.Signature, _ = bls.Aggregate([]bls.Signature{keys[0].Sign(msg), other.Sign(msg)})
	tampered := cert(0, 1)
	tampered.SerializedMessage = bytes.Clone(tampered.SerializedMessage)
	tampered.SerializedMessage[10] ^= 1
	claimsMore := cert(0, 1)
	claimsMore.Signers = []uint16{0, 1, 2}

	tests := []struct {
		name   string
		cert   Certificate
		weight int
		err    error
	}{
		{"quorum", cert(0, 1), 7, nil},
		{"all", cert(2, 0, 1), 10, nil},
		{"too few", cert(1, 2), 6, ErrInsufficientSigners},
		{"none", Certificate{SerializedMessage: msg}, 0, ErrInsufficientSigners},
		{"duplicate", cert(1, 1, 2), 0, ErrInvalidSigners},
		{"out of range", cert(0, 1), 0, nil},
		{"wrong key", wrongKey, 7, ErrInvalidSignature},
		{"tampered", tampered, 7, ErrInvalidSignature},
		{"claims a signer that did not sign", claimsMore, 10, ErrInvalidSignature},
	}
	tests[5].cert.Signers = []uint16{0, 3}
	tests[5].err = ErrInvalidSigners
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := c.VerifyCertificate(tt.cert, c.QuorumWeight())
			if tt.err == nil && err != nil {
				t.Fatalf("got %v", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if tt.err != ErrInvalidSigners && w != tt.weight {
				t.Fatalf("weight %d, want %d", w, tt.weight)
			}
		})
	}
}
