package bls

import (
	"encoding/base64"
	"fmt"

	"github.com/cloudflare/circl/ecc/bls12381"
	circl "github.com/cloudflare/circl/sign/bls"
)

// Signature is a 96-byte compressed G2 point. Its text form is standard
// base64 with padding, as in Walrus's signed messages.
type Signature [SignatureSize]byte

// ParseSignature copies b into a Signature after checking its length. The
// point itself is checked when the signature is verified or aggregated.
func ParseSignature(b []byte) (Signature, error) {
	var s Signature
	if len(b) != SignatureSize {
		return s, fmt.Errorf("%w: signature of %d bytes, want %d", ErrInvalidSignature, len(b), SignatureSize)
	}
	copy(s[:], b)
	return s, nil
}

// String returns the standard base64 form.
func (s Signature) String() string { return base64.StdEncoding.EncodeToString(s[:]) }

// MarshalText implements encoding.TextMarshaler (standard base64).
func (s Signature) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Signature) UnmarshalText(b []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("%w: signature is not base64: %w", ErrInvalidSignature, err)
	}
	sig, err := ParseSignature(raw)
	if err != nil {
		return err
	}
	*s = sig
	return nil
}

// Verify checks sig over msg under pk. It returns nil or an error wrapping
// ErrInvalidKey or ErrInvalidSignature.
func Verify(pk PublicKey, msg []byte, sig Signature) error {
	p, err := pk.point()
	if err != nil {
		return err
	}
	if !circl.Verify(p, msg, sig[:]) {
		return fmt.Errorf("%w: does not verify under %s", ErrInvalidSignature, pk)
	}
	return nil
}

// Aggregate adds signatures in G2. Over one message, the result verifies
// against the sum of the signers' public keys (see VerifyAggregate). The
// result equals Walrus's (fastcrypto's) aggregate byte for byte.
func Aggregate(sigs []Signature) (Signature, error) {
	if len(sigs) == 0 {
		return Signature{}, fmt.Errorf("%w: no signatures to aggregate", ErrInvalidSignature)
	}
	raw := make([]circl.Signature, len(sigs))
	for i := range sigs {
		raw[i] = sigs[i][:]
	}
	agg, err := circl.Aggregate(circl.G1{}, raw)
	if err != nil {
		return Signature{}, fmt.Errorf("%w: aggregate: %w", ErrInvalidSignature, err)
	}
	return ParseSignature(agg)
}

// AggregatePublicKeys adds public keys in G1. Each key is checked to be a
// valid subgroup point first.
func AggregatePublicKeys(pks []PublicKey) (PublicKey, error) {
	if len(pks) == 0 {
		return PublicKey{}, fmt.Errorf("%w: no public keys to aggregate", ErrInvalidKey)
	}
	var sum, p bls12381.G1
	sum.SetIdentity()
	for i := range pks {
		if err := p.SetBytes(pks[i][:]); err != nil {
			return PublicKey{}, fmt.Errorf("%w: key %d: %w", ErrInvalidKey, i, err)
		}
		if p.IsIdentity() {
			return PublicKey{}, fmt.Errorf("%w: key %d is the identity", ErrInvalidKey, i)
		}
		sum.Add(&sum, &p)
	}
	var out PublicKey
	copy(out[:], sum.BytesCompressed())
	return out, nil
}

// VerifyAggregate checks an aggregate signature made by the holders of pks
// over ONE message, by verifying it against the sum of their keys. It is the
// check Walrus makes of a certificate. It is sound only for keys that proved
// possession of their secret (VerifyProofOfPossession); otherwise one signer
// could forge a quorum with a rogue key.
func VerifyAggregate(pks []PublicKey, msg []byte, sig Signature) error {
	sum, err := AggregatePublicKeys(pks)
	if err != nil {
		return err
	}
	p := new(circl.PublicKey[circl.KeyG1SigG2])
	if err := p.UnmarshalBinary(sum[:]); err != nil {
		// Keys that cancel out sum to the identity, which is no key.
		return fmt.Errorf("%w: aggregate key: %w", ErrInvalidSignature, err)
	}
	if !circl.Verify(p, msg, sig[:]) {
		return fmt.Errorf("%w: aggregate of %d signers does not verify", ErrInvalidSignature, len(pks))
	}
	return nil
}
