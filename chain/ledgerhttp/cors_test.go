package ledgerhttp

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Pages of other origins may read, register and certify (web/'s direct
// upload), and nothing else.
func TestCORS(t *testing.T) {
	h := (&Server{}).Handler()
	for _, tc := range []struct {
		method, path string
		allowed      bool
	}{
		{http.MethodPost, "/v1/blobs", true},
		{http.MethodPost, "/v1/objects/0xab12/certify", true},
		{http.MethodGet, "/v1/committee", true},
		{http.MethodPost, "/v1/epoch/advance", false},
		{http.MethodPut, "/v1/committee/next", false},
		{http.MethodDelete, "/v1/objects/0xab12", false},
		{http.MethodPost, "/v1/objects/0xab12/extend", false},
		{http.MethodPost, "/v1/objects/0xab12/attributes", false},
		{http.MethodPost, "/v1/objects//certify", false},
		{http.MethodPost, "/v1/invalid-blob-ids", false},
	} {
		req := httptest.NewRequest(http.MethodOptions, tc.path, nil)
		req.Header.Set("Origin", "http://page.example")
		req.Header.Set("Access-Control-Request-Method", tc.method)
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("Access-Control-Allow-Origin") == "*"
		if got != tc.allowed || rec.Code != http.StatusNoContent {
			t.Errorf("preflight %s %s: %d, Allow-Origin %q, want allowed=%v", tc.method, tc.path, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), tc.allowed)
		}
		if tc.allowed && rec.Header().Get("Access-Control-Allow-Headers") != "content-type" {
			t.Errorf("preflight %s %s: Allow-Headers %q", tc.method, tc.path, rec.Header().Get("Access-Control-Allow-Headers"))
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/status", nil)
	req.Header.Set("Origin", "http://page.example")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET /status from a page: %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	// Without Origin (not a browser) nothing changes.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET /status without Origin: Allow-Origin %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}
}
