package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestEnvelopeShape(t *testing.T) {
	e := New(NotFound, DomainDaemon, "BLOB_NOT_FOUND", "the requested blob ID does not exist on Walrus, ensure that it was entered correctly")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":{"status":"NOT_FOUND","code":404,"message":"the requested blob ID does not exist on Walrus, ensure that it was entered correctly","details":[{"@type":"ErrorInfo","reason":"BLOB_NOT_FOUND","domain":"daemon.walrus.space","metadata":{}}]}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestStatusCodes(t *testing.T) {
	for s, want := range map[Status]int{InvalidArgument: 400, FailedPrecondition: 400, NotFound: 404, SizeExceeded: 403,
		RangeNotSatisfiable: 416, ResourceExhausted: 429, UnavailableForLegalReasons: 451, Unavailable: 503, DeadlineExceeded: 504} {
		if s.Code() != want {
			t.Errorf("%s: %d, want %d", s, s.Code(), want)
		}
	}
}

func TestEchoHandler(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = EchoHandler(nil)
	e.GET("/api", func(c echo.Context) error {
		return fmt.Errorf("lookup: %w", New(InvalidArgument, DomainStorage, "INVALID_SLIVER", "bad"))
	})
	e.GET("/boom", func(c echo.Context) error { return errors.New("disk on fire") })
	for _, tc := range []struct {
		path, reason string
		code         int
		emptyBody    bool
	}{
		{"/api", "INVALID_SLIVER", 400, false},
		{"/boom", "INTERNAL_ERROR", 500, false},
		{"/nowhere", "", 404, true},
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.code {
			t.Fatalf("%s: code %d, want %d", tc.path, rec.Code, tc.code)
		}
		if tc.emptyBody {
			if rec.Body.Len() != 0 {
				t.Fatalf("%s: body %q, want empty", tc.path, rec.Body)
			}
			continue
		}
		got := Parse(rec.Code, rec.Body)
		if got.Reason != tc.reason {
			t.Fatalf("%s: reason %q, want %q", tc.path, got.Reason, tc.reason)
		}
		if strings.Contains(got.Message, "fire") {
			t.Fatal("internal cause leaked to the client")
		}
		if !errors.Is(got, &Error{Reason: tc.reason}) {
			t.Fatal("errors.Is by reason does not match")
		}
	}
}
