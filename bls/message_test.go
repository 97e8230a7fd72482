package bls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestHeaderLayout(t *testing.T) {
	got := NewHeader(IntentBlobCertification, 0x01020304).Append(nil)
	want := []byte{1, 0, 3, 0x04, 0x03, 0x02, 0x01}
	if !bytes.Equal(got, want) {
		t.Fatalf("header = %x, want %x", got, want)
	}
	h, rest, err := ParseMessage(append(got, 9, 9))
	if err != nil {
		t.Fatal(err)
	}
	if h != NewHeader(IntentBlobCertification, 0x01020304) || !bytes.Equal(rest, []byte{9, 9}) {
		t.Fatalf("parsed %+v %x", h, rest)
	}
}

func TestParseMessageRefuses(t *testing.T) {
	for name, msg := range map[string][]byte{
		"short":       {1, 0, 3, 0, 0, 0},
		"version":     {1, 1, 3, 0, 0, 0, 0},
		"app id":      {1, 0, 4, 0, 0, 0, 0},
		"empty":       nil,
		"header only": {1, 0},
	} {
		if _, _, err := ParseMessage(msg); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
}

func TestProofOfPossession(t *testing.T) {
	k := mustKey(t, 5)
	pk := k.PublicKey()
	var addr [32]byte
	for i := range addr {
		addr[i] = 42
	}
	const epoch = 21

	// Layout: Walrus's ProofOfPossessionMsg, BCS.
	msg := ProofOfPossessionMessage(epoch, addr, pk)
	if len(msg) != 7+32+48 {
		t.Fatalf("message is %d bytes, want 87", len(msg))
	}
	if !bytes.Equal(msg[:3], []byte{0, 0, 3}) {
		t.Fatalf("intent = %x", msg[:3])
	}
	if binary.LittleEndian.Uint32(msg[3:7]) != epoch {
		t.Fatalf("epoch bytes = %x", msg[3:7])
	}
	if !bytes.Equal(msg[7:39], addr[:]) || !bytes.Equal(msg[39:], pk[:]) {
		t.Fatal("address or key misplaced")
	}

	pop := k.ProvePossession(epoch, addr)
	if err := VerifyProofOfPossession(pk, epoch, addr, pop); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	otherAddr := addr
	otherAddr[0] = 1
	other := mustKey(t, 6)
	tests := []struct {
		name  string
		pk    PublicKey
		epoch uint32
		addr  [32]byte
		pop   Signature
	}{
		{"other epoch", pk, epoch + 1, addr, pop},
		{"other address", pk, epoch, otherAddr, pop},
		{"other key claims it", other.PublicKey(), epoch, addr, pop},
		{"signature over the wrong message", pk, epoch, addr, k.Sign([]byte("hello"))},
		{"other key's proof", pk, epoch, addr, other.ProvePossession(epoch, addr)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyProofOfPossession(tt.pk, tt.epoch, tt.addr, tt.pop); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("got %v, want ErrInvalidSignature", err)
			}
		})
	}
}
