package bls

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	circl "github.com/cloudflare/circl/sign/bls"
)

// Sizes of the encoded forms, in bytes.
const (
	PrivateKeySize = 32 // big-endian scalar
	PublicKeySize  = 48 // compressed G1 point
	SignatureSize  = 96 // compressed G2 point
	// MinSeedSize is the least seed length KeyFromSeed accepts.
	MinSeedSize = 32
)

// Errors callers may branch on.
var (
	// ErrInvalidKey is returned for bytes that are not a valid key.
	ErrInvalidKey = errors.New("bls: invalid key")
	// ErrInvalidSignature is returned when a signature is malformed or does
	// not verify.
	ErrInvalidSignature = errors.New("bls: invalid signature")
	// ErrInvalidMessage is returned when a protocol message is malformed or
	// has an unexpected intent.
	ErrInvalidMessage = errors.New("bls: invalid protocol message")
)

// keyGenInfo is the HKDF key-info used to derive keys from seeds. Changing it
// changes every key of every deterministic devnet.
const keyGenInfo = "haulout-bls12381-min-pk"

// PrivateKey is a BLS12-381 min-pk signing key.
type PrivateKey struct {
	k *circl.PrivateKey[circl.KeyG1SigG2]
}

// GenerateKey returns a new key drawn from r (crypto/rand when r is nil).
func GenerateKey(r io.Reader) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	ikm := make([]byte, MinSeedSize)
	if _, err := io.ReadFull(r, ikm); err != nil {
		return nil, fmt.Errorf("bls: read randomness: %w", err)
	}
	return KeyFromSeed(ikm)
}

// KeyFromSeed derives a key deterministically from seed (at least
// MinSeedSize bytes) with the IETF KeyGen (HKDF-SHA256). The same seed always
// gives the same key, which is what deterministic devnets need; a seed must be
// as secret as the key it makes.
func KeyFromSeed(seed []byte) (*PrivateKey, error) {
	if len(seed) < MinSeedSize {
		return nil, fmt.Errorf("%w: seed of %d bytes, want at least %d", ErrInvalidKey, len(seed), MinSeedSize)
	}
	k, err := circl.KeyGen[circl.KeyG1SigG2](seed, nil, []byte(keyGenInfo))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return &PrivateKey{k: k}, nil
}

// ParsePrivateKey parses the 32-byte big-endian scalar form of a key (the form
// Walrus and Sui use). Zero and values not below the group order are refused,
// so every key has one encoding.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != PrivateKeySize {
		return nil, fmt.Errorf("%w: private key of %d bytes, want %d", ErrInvalidKey, len(b), PrivateKeySize)
	}
	k := new(circl.PrivateKey[circl.KeyG1SigG2])
	if err := k.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return &PrivateKey{k: k}, nil
}

// Bytes returns the 32-byte big-endian scalar. Keep it secret.
func (k *PrivateKey) Bytes() []byte {
	b, err := k.k.MarshalBinary()
	if err != nil {
		// MarshalBinary of a scalar cannot fail; a failure is a broken build.
		panic(fmt.Sprintf("bls: marshal private key: %v", err))
	}
	return b
}

// PublicKey returns the public key of k.
func (k *PrivateKey) PublicKey() PublicKey {
	b, err := k.k.PublicKey().MarshalBinary()
	if err != nil || len(b) != PublicKeySize {
		panic(fmt.Sprintf("bls: marshal public key: %v", err))
	}
	var pk PublicKey
	copy(pk[:], b)
	return pk
}

// Sign signs msg.
func (k *PrivateKey) Sign(msg []byte) Signature {
	var s Signature
	copy(s[:], circl.Sign(k.k, msg))
	return s
}

// PublicKey is a 48-byte compressed G1 point. Its text form is standard
// base64 with padding, as in Walrus's health endpoint and node records.
type PublicKey [PublicKeySize]byte

// ParsePublicKey parses a compressed G1 point and checks that it is a valid,
// non-identity point of the prime-order subgroup.
func ParsePublicKey(b []byte) (PublicKey, error) {
	var pk PublicKey
	if len(b) != PublicKeySize {
		return pk, fmt.Errorf("%w: public key of %d bytes, want %d", ErrInvalidKey, len(b), PublicKeySize)
	}
	copy(pk[:], b)
	if _, err := pk.point(); err != nil {
		return PublicKey{}, err
	}
	return pk, nil
}

// ParsePublicKeyBase64 parses the standard base64 form of a public key.
func ParsePublicKeyBase64(s string) (PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: public key is not base64: %w", ErrInvalidKey, err)
	}
	return ParsePublicKey(b)
}

// Validate reports whether pk is a valid public key.
func (pk PublicKey) Validate() error {
	_, err := pk.point()
	return err
}

func (pk PublicKey) point() (*circl.PublicKey[circl.KeyG1SigG2], error) {
	p := new(circl.PublicKey[circl.KeyG1SigG2])
	if err := p.UnmarshalBinary(pk[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return p, nil
}

// String returns the standard base64 form.
func (pk PublicKey) String() string { return base64.StdEncoding.EncodeToString(pk[:]) }

// MarshalText implements encoding.TextMarshaler (standard base64).
func (pk PublicKey) MarshalText() ([]byte, error) { return []byte(pk.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It checks the length,
// not the point: Validate, Verify and the ledger check points when they use
// them.
func (pk *PublicKey) UnmarshalText(b []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("%w: public key is not base64: %w", ErrInvalidKey, err)
	}
	if len(raw) != PublicKeySize {
		return fmt.Errorf("%w: public key of %d bytes, want %d", ErrInvalidKey, len(raw), PublicKeySize)
	}
	copy(pk[:], raw)
	return nil
}

// Bytes returns the 48 compressed bytes as a new slice.
func (pk PublicKey) Bytes() []byte { return append([]byte(nil), pk[:]...) }
