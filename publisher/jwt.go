package publisher

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/internal/apierr"
)

// Walrus's authenticated publisher: a bearer JWT per upload whose claims
// bound what the upload may do, each token used once. Errors are Walrus's
// (domain auth.publisher.walrus.space).

// jwtLeeway is the clock skew allowed on exp, jsonwebtoken's default.
const jwtLeeway = 60 * time.Second

// maxTimestamp is the largest |exp| that chrono's DateTime holds
// (year 262143); beyond it Walrus answers INVALID_TIMESTAMP.
const maxTimestamp = 8_210_298_412_799

// uploadClaims are Walrus's Claim: RFC 7519's exp, iat and jti, and the
// storage limits of the upload. Pointers tell absent claims from zeros.
type uploadClaims struct {
	Exp          *int64  `json:"exp"`
	Iat          *int64  `json:"iat"`
	Jti          *string `json:"jti"`
	SendObjectTo *string `json:"send_object_to"`
	Epochs       *uint32 `json:"epochs"`
	MaxEpochs    *uint32 `json:"max_epochs"`
	Size         *uint64 `json:"size"`
	MaxSize      *uint64 `json:"max_size"`
}

func numericDate(v *int64) *jwt.NumericDate {
	if v == nil {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(*v, 0))
}

func (c *uploadClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp), nil }
func (c *uploadClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numericDate(c.Iat), nil }

// GetNotBefore reports no nbf: Walrus does not check it.
func (c *uploadClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *uploadClaims) GetIssuer() (string, error)              { return "", nil }
func (c *uploadClaims) GetSubject() (string, error)             { return "", nil }
func (c *uploadClaims) GetAudience() (jwt.ClaimStrings, error)  { return nil, nil }

func authError(status apierr.Status, reason, format string, args ...any) *apierr.Error {
	return apierr.New(status, apierr.DomainAuth, reason, format, args...)
}

func errInvalidSize() error {
	return authError(apierr.FailedPrecondition, "INVALID_SIZE", "the size of the request does not match the size specified in the token")
}

// jwtAuth checks tokens against a JWTConfig and remembers used token IDs.
type jwtAuth struct {
	cfg       JWTConfig
	alg       string
	key       any // nil: signatures are not checked
	parser    *jwt.Parser
	validator *jwt.Validator

	mu        sync.Mutex
	used      map[string]time.Time // jti -> exp
	lastSweep time.Time
}

func newJWTAuth(cfg JWTConfig) (*jwtAuth, error) {
	a := &jwtAuth{cfg: cfg, alg: cfg.Algorithm, used: make(map[string]time.Time)}
	if a.alg == "" {
		a.alg = "HS256"
	}
	if jwt.GetSigningMethod(a.alg) == nil || a.alg == "none" {
		return nil, fmt.Errorf("%w: unknown JWT algorithm %q", errConfig, a.alg)
	}
	opts := []jwt.ParserOption{jwt.WithLeeway(jwtLeeway), jwt.WithExpirationRequired()}
	if cfg.DecodeSecret != "" {
		key, err := decodingKey(a.alg, cfg.DecodeSecret)
		if err != nil {
			return nil, fmt.Errorf("%w: JWT decode secret: %v", errConfig, err)
		}
		a.key = key
		opts = append(opts, jwt.WithValidMethods([]string{a.alg}))
	}
	a.parser = jwt.NewParser(opts...)
	a.validator = jwt.NewValidator(opts...)
	return a, nil
}

// decodingKey reads the secret or public key for alg: 0x-prefixed hex is
// decoded first; asymmetric keys are DER (PKIX, or PKCS#1 for RSA), an
// uncompressed point for ECDSA, or 32 raw bytes for EdDSA.
func decodingKey(alg, secret string) (any, error) {
	raw := []byte(secret)
	if h, ok := strings.CutPrefix(secret, "0x"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("bad hex: %v", err)
		}
		raw = b
	}
	switch {
	case strings.HasPrefix(alg, "HS"):
		return raw, nil
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		if k, err := x509.ParsePKCS1PublicKey(raw); err == nil {
			return k, nil
		}
		k, err := x509.ParsePKIXPublicKey(raw)
		if err != nil {
			return nil, err
		}
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA public key")
	case strings.HasPrefix(alg, "ES"):
		if k, err := x509.ParsePKIXPublicKey(raw); err == nil {
			if ek, ok := k.(*ecdsa.PublicKey); ok {
				return ek, nil
			}
			return nil, errors.New("not an ECDSA public key")
		}
		curve, ecurve := ecdh.P256(), elliptic.P256()
		if alg == "ES384" {
			curve, ecurve = ecdh.P384(), elliptic.P384()
		}
		if _, err := curve.NewPublicKey(raw); err != nil {
			return nil, fmt.Errorf("not a %s public key: %v", alg, err)
		}
		size := (len(raw) - 1) / 2
		return &ecdsa.PublicKey{Curve: ecurve, X: new(big.Int).SetBytes(raw[1 : 1+size]), Y: new(big.Int).SetBytes(raw[1+size:])}, nil
	case alg == "EdDSA":
		if len(raw) == ed25519.PublicKeySize {
			return ed25519.PublicKey(raw), nil
		}
		k, err := x509.ParsePKIXPublicKey(raw)
		if err != nil {
			return nil, err
		}
		if ek, ok := k.(ed25519.PublicKey); ok {
			return ek, nil
		}
		return nil, errors.New("not an Ed25519 public key")
	}
	return nil, fmt.Errorf("unsupported algorithm %s", alg)
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// decode parses and checks a token: signature (when a key is set), exp
// with a minute of leeway, the algorithm, and the claims' JSON. Errors map
// as Walrus's jsonwebtoken errors do.
func (a *jwtAuth) decode(token string) (*uploadClaims, error) {
	var cl uploadClaims
	tok, _, err := a.parser.ParseUnverified(token, &cl)
	if err != nil {
		return nil, authError(apierr.FailedPrecondition, "INVALID_TOKEN", "the JWT token is invalid: %v", err)
	}
	if a.key != nil {
		if alg, _ := tok.Header["alg"].(string); alg != a.alg {
			return nil, authError(apierr.FailedPrecondition, "INVALID_TOKEN", "the JWT token is invalid: algorithm %q is not %s", alg, a.alg)
		}
		cl = uploadClaims{}
		_, err = a.parser.ParseWithClaims(token, &cl, func(*jwt.Token) (any, error) { return a.key, nil })
	} else {
		err = a.validator.Validate(&cl)
	}
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, authError(apierr.DeadlineExceeded, "EXPIRED_SIGNATURE", "the signature on the token has expired: %v", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, authError(apierr.Unauthenticated, "INVALID_SIGNATURE", "the signature on the token is invalid: %v", err)
	default:
		return nil, authError(apierr.FailedPrecondition, "INVALID_TOKEN", "the JWT token is invalid: %v", err)
	}
	if cl.Jti == nil {
		return nil, authError(apierr.FailedPrecondition, "INVALID_TOKEN", "the JWT token is invalid: missing field `jti`")
	}
	if cl.SendObjectTo != nil {
		if _, err := chain.ParseObjectID(*cl.SendObjectTo); err != nil {
			return nil, authError(apierr.FailedPrecondition, "INVALID_TOKEN", "the JWT token is invalid: send_object_to: %v", err)
		}
	}
	if a.cfg.ExpiringSec > 0 && cl.Iat == nil {
		return nil, authError(apierr.FailedPrecondition, "INVALID_TOKEN", "the JWT token is invalid: missing required claim `iat`")
	}
	return &cl, nil
}

// sizeHint is what Content-Length says of the body: its exact length, or
// unknown.
type sizeHint struct {
	known bool
	n     uint64
}

// check is Walrus's verify_jwt_claim: decode, remember the token ID (a
// second use is refused), check the claims against the request; a token
// refused by the checks is forgotten again.
func (a *jwtAuth) check(r *http.Request, q storeQuery, hint sizeHint) error {
	token, ok := bearer(r)
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "Header of type `authorization` was missing")
	}
	cl, err := a.decode(token)
	if err != nil {
		return err
	}
	if *cl.Exp > maxTimestamp || *cl.Exp < -maxTimestamp {
		return authError(apierr.FailedPrecondition, "INVALID_TIMESTAMP", "one of the timestamps in the JWT token is invalid")
	}
	if err := a.remember(*cl.Jti, time.Unix(*cl.Exp, 0)); err != nil {
		return err
	}
	if err := a.checkUpload(cl, q, hint); err != nil {
		a.forget(*cl.Jti)
		return err
	}
	return nil
}

// checkUpload is Walrus's Claim::check_valid_upload.
func (a *jwtAuth) checkUpload(cl *uploadClaims, q storeQuery, hint sizeHint) error {
	if a.cfg.ExpiringSec > 0 {
		iat := int64(0)
		if cl.Iat != nil {
			iat = *cl.Iat
		}
		if *cl.Exp-iat != a.cfg.ExpiringSec {
			return authError(apierr.FailedPrecondition, "INVALID_EXPIRATION", "the expiration in the query does not match the token")
		}
	}
	if cl.MaxSize != nil && cl.Size != nil {
		return authError(apierr.FailedPrecondition, "INCONSISTENT_TOKEN", "the token is inconsistent")
	}
	if !a.cfg.VerifyUpload {
		return nil
	}
	if hint.known {
		if cl.MaxSize != nil && hint.n > *cl.MaxSize {
			return errInvalidSize()
		}
		if cl.Size != nil && hint.n != *cl.Size {
			return errInvalidSize()
		}
	}
	switch {
	case cl.Epochs != nil && cl.MaxEpochs != nil:
		return authError(apierr.FailedPrecondition, "INCONSISTENT_TOKEN", "the token is inconsistent")
	case cl.Epochs != nil && q.Epochs != *cl.Epochs, cl.MaxEpochs != nil && q.Epochs > *cl.MaxEpochs:
		return authError(apierr.FailedPrecondition, "INVALID_EPOCHS", "the epochs field in the query does not match the token")
	}
	if cl.SendObjectTo != nil {
		want, _ := chain.ParseObjectID(*cl.SendObjectTo)
		if q.SendObjectTo == nil || *q.SendObjectTo != want {
			return authError(apierr.FailedPrecondition, "INVALID_SEND_OBJECT_TO",
				"the send_object_to field in the query does not match the token, or is missing")
		}
	}
	return nil
}

// remember records a token ID until exp; a known ID is a replay. When the
// cache is full and nothing in it has expired, the request fails as
// Walrus's does (an internal error).
func (a *jwtAuth) remember(jti string, exp time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if len(a.used) >= a.cfg.CacheSize || now.Sub(a.lastSweep) >= a.cfg.CacheRefresh {
		for k, e := range a.used {
			if !e.After(now) {
				delete(a.used, k)
			}
		}
		a.lastSweep = now
	}
	if _, ok := a.used[jti]; ok {
		return authError(apierr.ResourceExhausted, "TOKEN_ALREADY_USED", "the JWT token was already used")
	}
	if len(a.used) >= a.cfg.CacheSize {
		return fmt.Errorf("jwt replay cache is full (%d token IDs)", a.cfg.CacheSize)
	}
	a.used[jti] = exp
	return nil
}

func (a *jwtAuth) forget(jti string) {
	a.mu.Lock()
	delete(a.used, jti)
	a.mu.Unlock()
}

// checkExactSize is Walrus's check_blob_size, once the body's length is
// known: a max_size or size claim in the request's token must hold. With
// authentication on, the token was checked already; with it off, Walrus
// still reads the claims of any bearer token, unverified, and so does this
// (a bearer value that is not a JWT is ignored here, where Walrus answers
// 500).
func checkExactSize(r *http.Request, n uint64) error {
	token, ok := bearer(r)
	if !ok {
		return nil
	}
	var cl uploadClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &cl); err != nil {
		return nil
	}
	if cl.MaxSize != nil && n > *cl.MaxSize {
		return errInvalidSize()
	}
	if cl.Size != nil && n != *cl.Size {
		return errInvalidSize()
	}
	return nil
}
