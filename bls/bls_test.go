package bls

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cloudflare/circl/ecc/bls12381"
)

func seed(b byte) []byte { return bytes.Repeat([]byte{b}, MinSeedSize) }

func mustKey(t testing.TB, b byte) *PrivateKey {
	t.Helper()
	k, err := KeyFromSeed(seed(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Walrus's Move tests (contracts/walrus/tests/test_utils.move, test_bls_pk)
// pin the public key of the secret scalar 117.
func TestPublicKeyMatchesWalrusVector(t *testing.T) {
	sk := make([]byte, PrivateKeySize)
	sk[31] = 0x75
	k, err := ParsePrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	want := "95eacc3adc09c827593f581e8e2de068bf4cf5d0c0eb29e5372f0d23364788ee0f9beb112c8a7e9c2f0c720433705cf0"
	if got := hex.EncodeToString(k.PublicKey().Bytes()); got != want {
		t.Fatalf("public key of 117 = %s, want %s", got, want)
	}
	if !bytes.Equal(k.Bytes(), sk) {
		t.Fatalf("private key bytes do not round-trip")
	}
}

func TestSignVerify(t *testing.T) {
	k := mustKey(t, 1)
	other := mustKey(t, 2)
	msg := []byte("storage confirmation")
	sig := k.Sign(msg)
	tampered := bytes.Clone(msg)
	tampered[0] ^= 1
	badSig := sig
	badSig[10] ^= 1

	tests := []struct {
		name string
		pk   PublicKey
		msg  []byte
		sig  Signature
		want error
	}{
		{"valid", k.PublicKey(), msg, sig, nil},
		{"tampered message", k.PublicKey(), tampered, sig, ErrInvalidSignature},
		{"wrong key", other.PublicKey(), msg, sig, ErrInvalidSignature},
		{"corrupt signature", k.PublicKey(), msg, badSig, ErrInvalidSignature},
		{"zero signature", k.PublicKey(), msg, Signature{}, ErrInvalidSignature},
		{"zero key", PublicKey{}, msg, sig, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pk, tt.msg, tt.sig)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeyFromSeedIsDeterministic(t *testing.T) {
	a, b, c := mustKey(t, 7), mustKey(t, 7), mustKey(t, 8)
	if a.PublicKey() != b.PublicKey() {
		t.Fatal("same seed gave different keys")
	}
	if a.PublicKey() == c.PublicKey() {
		t.Fatal("different seeds gave the same key")
	}
	if _, err := KeyFromSeed(make([]byte, MinSeedSize-1)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("short seed: %v, want ErrInvalidKey", err)
	}
	g, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.PublicKey().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParsePrivateKeyRefuses(t *testing.T) {
	order, _ := hex.DecodeString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
	for name, b := range map[string][]byte{
		"zero":  make([]byte, 32),
		"order": order,
		"short": make([]byte, 31),
		"ones":  bytes.Repeat([]byte{0xff}, 32),
	} {
		if _, err := ParsePrivateKey(b); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v, want ErrInvalidKey", name, err)
		}
	}
}

func TestParsePublicKeyRefuses(t *testing.T) {
	k := mustKey(t, 3).PublicKey()
	bad := k
	bad[47] ^= 0xff // off the curve or out of the subgroup, with overwhelming likelihood
	identity := PublicKey{0xc0}
	for name, b := range map[string][]byte{
		"short":    k[:47],
		"corrupt":  bad[:],
		"identity": identity[:],
	} {
		if _, err := ParsePublicKey(b); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v, want ErrInvalidKey", name, err)
		}
	}
	got, err := ParsePublicKeyBase64(k.String())
	if err != nil || got != k {
		t.Fatalf("base64 round trip: %v", err)
	}
}

func TestAggregateOfThree(t *testing.T) {
	keys := []*PrivateKey{mustKey(t, 1), mustKey(t, 2), mustKey(t, 3)}
	msg := []byte("one message, three signers")
	var sigs []Signature
	var pks []PublicKey
	for _, k := range keys {
		sigs = append(sigs, k.Sign(msg))
		pks = append(pks, k.PublicKey())
	}
	agg, err := Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyAggregate(pks, msg, agg); err != nil {
		t.Fatalf("aggregate does not verify: %v", err)
	}

	// The aggregate is exactly the signature of the summed secret key, and
	// the summed public key is the public key of that secret.
	var sum, s bls12381.Scalar
	for _, k := range keys {
		if err := s.UnmarshalBinary(k.Bytes()); err != nil {
			t.Fatal(err)
		}
		sum.Add(&sum, &s)
	}
	sumBytes, _ := sum.MarshalBinary()
	sumKey, err := ParsePrivateKey(sumBytes)
	if err != nil {
		t.Fatal(err)
	}
	if want := sumKey.Sign(msg); agg != want {
		t.Fatal("aggregate differs from the signature of the summed key")
	}
	aggPK, err := AggregatePublicKeys(pks)
	if err != nil {
		t.Fatal(err)
	}
	if aggPK != sumKey.PublicKey() {
		t.Fatal("summed public key differs from the public key of the summed secret")
	}

	// Order does not matter.
	rev, _ := Aggregate([]Signature{sigs[2], sigs[0], sigs[1]})
	if rev != agg {
		t.Fatal("aggregate depends on order")
	}

	tampered := append(bytes.Clone(msg), '!')
	if err := VerifyAggregate(pks, tampered, agg); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("tampered message: %v", err)
	}
	if err := VerifyAggregate(pks[:2], msg, agg); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("missing signer: %v", err)
	}
	wrong := []PublicKey{pks[0], pks[1], mustKey(t, 9).PublicKey()}
	if err := VerifyAggregate(wrong, msg, agg); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := Aggregate(nil); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("empty aggregate: %v", err)
	}
	if _, err := Aggregate([]Signature{sigs[0], {}}); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("aggregate with a malformed signature: %v", err)
	}
}

func TestTextForms(t *testing.T) {
	k := mustKey(t, 4)
	v := struct {
		PK  PublicKey `json:"pk"`
		Sig Signature `json:"sig"`
	}{k.PublicKey(), k.Sign([]byte("x"))}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		PK  PublicKey `json:"pk"`
		Sig Signature `json:"sig"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.PK != v.PK || back.Sig != v.Sig {
		t.Fatal("JSON round trip changed the values")
	}
	if err := json.Unmarshal([]byte(`{"pk":"AAAA"}`), &back); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("short key in JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"sig":"AAAA"}`), &back); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("short signature in JSON: %v", err)
	}
}
