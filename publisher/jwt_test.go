package publisher

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func token(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearerHeader(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// TestJWT follows Walrus's authenticated publisher: signature, expiry,
// replay, and the claims checked against each upload, with its reasons and
// statuses.
func TestJWT(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	secret := []byte("a shared secret")
	cfg := testConfig(t, tn, st, spool)
	cfg.JWT = JWTConfig{DecodeSecret: "0x" + fmt.Sprintf("%x", secret), ExpiringSec: 600, VerifyUpload: true}
	tp := startPublisher(t, cfg)
	now := time.Now().Unix()
	jti := 0
	claims := func(extra jwt.MapClaims) jwt.MapClaims {
		jti++
		c := jwt.MapClaims{"iat": now, "exp": now + 600, "jti": fmt.Sprintf("token-%d", jti)}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	blob := []byte("authorized blob")
	addr := "0x" + strings.Repeat("ab", 32)
	authErr := func(t *testing.T, query string, h http.Header, body []byte, wantCode int, reason string) {
		t.Helper()
		code, resp, _ := put(t, tp.url, "/v1/blobs"+query, bytes.NewReader(body), h)
		checkError(t, code, resp, wantCode, reason, "auth.publisher.walrus.space")
	}

	t.Run("missing header", func(t *testing.T) {
		code, body, _ := put(t, tp.url, "/v1/blobs", bytes.NewReader(blob), nil)
		if code != http.StatusBadRequest || strings.HasPrefix(string(body), "{") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("valid, then replayed", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"max_epochs": 3, "max_size": 100}))
		code, body, _ := put(t, tp.url, "/v1/blobs?epochs=3", bytes.NewReader(blob), bearerHeader(tok))
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		authErr(t, "?epochs=3", bearerHeader(tok), blob, http.StatusTooManyRequests, "TOKEN_ALREADY_USED")
	})
	t.Run("refused token can be used again", func(t *testing.T) {
		c := claims(jwt.MapClaims{"epochs": 2})
		tok := token(t, jwt.SigningMethodHS256, secret, c)
		authErr(t, "?epochs=1", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_EPOCHS")
		code, body, _ := put(t, tp.url, "/v1/blobs?epochs=2", bytes.NewReader(blob), bearerHeader(tok))
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, []byte("another secret"), claims(nil))
		authErr(t, "", bearerHeader(tok), blob, http.StatusUnauthorized, "INVALID_SIGNATURE")
	})
	t.Run("other algorithm", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS512, secret, claims(nil))
		authErr(t, "", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_TOKEN")
	})
	t.Run("garbage", func(t *testing.T) {
		authErr(t, "", bearerHeader("not.a.jwt"), blob, http.StatusBadRequest, "INVALID_TOKEN")
	})
	t.Run("no jti", func(t *testing.T) {
		authErr(t, "", bearerHeader(token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"jti": nil}))), blob, http.StatusBadRequest, "INVALID_TOKEN")
	})
	t.Run("expired", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"iat": now - 1000, "exp": now - 400}))
		authErr(t, "", bearerHeader(tok), blob, http.StatusGatewayTimeout, "EXPIRED_SIGNATURE")
	})
	t.Run("expiry window", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"exp": now + 601}))
		authErr(t, "", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_EXPIRATION")
	})
	t.Run("epochs", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"max_epochs": 2}))
		authErr(t, "?epochs=3", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_EPOCHS")
		tok = token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"max_epochs": 2, "epochs": 2}))
		authErr(t, "?epochs=2", bearerHeader(tok), blob, http.StatusBadRequest, "INCONSISTENT_TOKEN")
	})
	t.Run("sizes", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"max_size": 5}))
		authErr(t, "", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_SIZE")
		tok = token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"size": len(blob) + 1}))
		authErr(t, "", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_SIZE")
		tok = token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"size": 1, "max_size": 5}))
		authErr(t, "", bearerHeader(tok), blob, http.StatusBadRequest, "INCONSISTENT_TOKEN")
		// Without Content-Length the exact size is checked after reading.
		tok = token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"max_size": 5}))
		req, _ := http.NewRequest(http.MethodPut, tp.url+"/v1/blobs", struct{ *bytes.Reader }{bytes.NewReader(blob)})
		req.Header = bearerHeader(tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("chunked body over max_size: %d", resp.StatusCode)
		}
	})
	t.Run("send_object_to", func(t *testing.T) {
		tok := token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"send_object_to": addr}))
		authErr(t, "", bearerHeader(tok), blob, http.StatusBadRequest, "INVALID_SEND_OBJECT_TO")
		tok = token(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"send_object_to": addr}))
		code, body, _ := put(t, tp.url, "/v1/blobs?send_object_to="+addr, bytes.NewReader(blob), bearerHeader(tok))
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
	})
	noJobLeft(t, st, spool)
}

// TestJWTKeys: with authentication on but no secret, signatures are
// not checked (a gateway did it) but the claims are; an EdDSA key works.
func TestJWTKeys(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name   string
		cfg    JWTConfig
		method jwt.SigningMethod
		key    any
		want   int
	}{
		{"gateway mode", JWTConfig{VerifyUpload: true}, jwt.SigningMethodHS256, []byte("whatever"), http.StatusOK},
		{"eddsa", JWTConfig{DecodeSecret: "0x" + fmt.Sprintf("%x", []byte(pub)), Algorithm: "EdDSA", VerifyUpload: true}, jwt.SigningMethodEdDSA, priv, http.StatusOK},
		{"eddsa, wrong key", JWTConfig{DecodeSecret: "0x" + strings.Repeat("01", 32), Algorithm: "EdDSA"}, jwt.SigningMethodEdDSA, priv, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTestNet(t, netOptions{}, testShards...)
			st := openStore(t, newStoreSpec(t, "sqlite"))
			cfg := testConfig(t, tn, st, t.TempDir())
			cfg.JWT = tc.cfg
			tp := startPublisher(t, cfg)
			tok := token(t, tc.method, tc.key, jwt.MapClaims{"exp": time.Now().Unix() + 60, "jti": "x", "max_epochs": 1})
			code, body, _ := put(t, tp.url, "/v1/blobs", strings.NewReader("data"), bearerHeader(tok))
			if code != tc.want {
				t.Errorf("%d %s", code, body)
			}
			if tc.want == http.StatusOK {
				tok = token(t, tc.method, tc.key, jwt.MapClaims{"exp": time.Now().Unix() + 60, "jti": "y", "max_epochs": 1})
				code, body, _ = put(t, tp.url, "/v1/blobs?epochs=2", strings.NewReader("data"), bearerHeader(tok))
				checkError(t, code, body, http.StatusBadRequest, "INVALID_EPOCHS", "auth.publisher.walrus.space")
			}
		})
	}
	if _, err := New(Config{Ledger: nil}); err == nil {
		t.Error("a config without a ledger was accepted")
	}
}

// TestSizeClaimWithoutAuth: with authentication off, Walrus still applies
// the size claims of a bearer token, unverified.
func TestSizeClaimWithoutAuth(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	tp := startPublisher(t, testConfig(t, tn, st, t.TempDir()))
	tok := token(t, jwt.SigningMethodHS256, []byte("k"), jwt.MapClaims{"exp": time.Now().Unix() + 60, "jti": "x", "max_size": 2})
	code, body, _ := put(t, tp.url, "/v1/blobs", strings.NewReader("data"), bearerHeader(tok))
	checkError(t, code, body, http.StatusBadRequest, "INVALID_SIZE", "auth.publisher.walrus.space")
	code, body, _ = put(t, tp.url, "/v1/blobs", strings.NewReader("data"), bearerHeader("not-a-jwt"))
	if code != http.StatusOK {
		t.Errorf("non-JWT bearer with auth off: %d %s", code, body)
	}
}
