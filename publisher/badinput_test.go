package publisher

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/publisher/jobs"
)

// TestBadInput: every refusal has Walrus's status and body, and leaves no
// job unfinished and no spool file behind.
func TestBadInput(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tn := newTestNet(t, netOptions{}, testShards...)
			st := openStore(t, newStoreSpec(t, kind))
			spool := t.TempDir()
			cfg := testConfig(t, tn, st, spool)
			cfg.MaxBodySize = 4 << 20
			cfg.MaxQuiltBodySize = 64 << 10
			tp := startPublisher(t, cfg)
			blob := []byte("a small blob")

			jsonErr := func(t *testing.T, query string, wantCode int, reason string) {
				t.Helper()
				code, body, _ := put(t, tp.url, "/v1/blobs"+query, bytes.NewReader(blob), nil)
				checkError(t, code, body, wantCode, reason, "daemon.walrus.space")
			}
			textErr := func(t *testing.T, method, path string, body io.Reader, header http.Header, wantCode int, wantBody string) {
				t.Helper()
				req, _ := http.NewRequest(method, tp.url+path, body)
				for k, v := range header {
					req.Header[k] = v
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != wantCode || !strings.Contains(string(b), wantBody) || (wantBody == "" && len(b) != 0) {
					t.Errorf("%s %s: %d %q, want %d %q", method, path, resp.StatusCode, b, wantCode, wantBody)
				}
			}

			t.Run("epochs", func(t *testing.T) {
				jsonErr(t, "?epochs=0", http.StatusBadRequest, "INVALID_EPOCHS")
				jsonErr(t, "?epochs=54", http.StatusBadRequest, "INVALID_EPOCHS")
				textErr(t, http.MethodPut, "/v1/blobs?epochs=max", bytes.NewReader(blob), nil, http.StatusBadRequest, "Failed to deserialize query string")
				textErr(t, http.MethodPut, "/v1/blobs?epochs=-1", bytes.NewReader(blob), nil, http.StatusBadRequest, "Failed to deserialize query string")
				textErr(t, http.MethodPut, "/v1/blobs?epochs=4294967296", bytes.NewReader(blob), nil, http.StatusBadRequest, "Failed to deserialize query string")
			})
			t.Run("persistence", func(t *testing.T) {
				jsonErr(t, "?permanent=true&deletable=true", http.StatusBadRequest, "INVALID_BLOB_PERSISTENCE")
				textErr(t, http.MethodPut, "/v1/blobs?permanent=yes", bytes.NewReader(blob), nil, http.StatusBadRequest, "Failed to deserialize query string")
			})
			t.Run("conflicts", func(t *testing.T) {
				addr := "0x" + strings.Repeat("11", 32)
				textErr(t, http.MethodPut, "/v1/blobs?share=true&send_object_to="+addr, bytes.NewReader(blob), nil, http.StatusBadRequest, "mutually exclusive")
				textErr(t, http.MethodPut, "/v1/blobs?share=false&share=true", bytes.NewReader(blob), nil, http.StatusBadRequest, "duplicate field")
				textErr(t, http.MethodPut, "/v1/blobs?send_object_to=0xzz", bytes.NewReader(blob), nil, http.StatusBadRequest, "send_object_to")
				textErr(t, http.MethodPut, "/v1/blobs?encoding_type=RedStuff", bytes.NewReader(blob), nil, http.StatusBadRequest, "encoding_type")
				textErr(t, http.MethodPut, "/v1/blobs?quilt_version=v2", bytes.NewReader(blob), nil, http.StatusBadRequest, "quilt_version")
			})
			t.Run("body too large", func(t *testing.T) {
				big := make([]byte, cfg.MaxBodySize+1)
				textErr(t, http.MethodPut, "/v1/blobs", bytes.NewReader(big), nil, http.StatusRequestEntityTooLarge, "length limit exceeded")
				// Without a Content-Length the limit is found while spooling.
				textErr(t, http.MethodPut, "/v1/blobs", io.MultiReader(bytes.NewReader(big)), nil, http.StatusRequestEntityTooLarge, "length limit exceeded")
			})
			t.Run("blob too large for the shards", func(t *testing.T) {
				big := randomBlob(t, int(tn.code.MaxBlobSize())+1)
				code, body, _ := put(t, tp.url, "/v1/blobs", bytes.NewReader(big), nil)
				checkError(t, code, body, http.StatusForbidden, "BLOB_TOO_LARGE", "daemon.walrus.space")
			})
			t.Run("quilts", func(t *testing.T) {
				files := map[string][]byte{"a": []byte("A")}
				body, ctype := multipartBody(t, files, "")
				textErr(t, http.MethodPut, "/v1/quilts", body, http.Header{"Content-Type": {"application/octet-stream"}}, http.StatusBadRequest, "multipart/form-data")
				textErr(t, http.MethodPut, "/v1/quilts", body, http.Header{"Content-Type": {"multipart/form-data"}}, http.StatusBadRequest, "boundary")
				quiltErr := func(t *testing.T, body io.Reader, ctype string) {
					t.Helper()
					code, resp, _ := put(t, tp.url, "/v1/quilts", body, http.Header{"Content-Type": {ctype}})
					checkError(t, code, resp, http.StatusBadRequest, "MALFORMED_REQUEST", "daemon.walrus.space")
				}
				// Cut short: no closing boundary.
				body, ctype = multipartBody(t, files, "")
				quiltErr(t, bytes.NewReader(body.Bytes()[:body.Len()-30]), ctype)
				// Not multipart at all, though announced as such.
				quiltErr(t, strings.NewReader("garbage"), ctype)
				// No files.
				body, ctype = multipartBody(t, nil, "")
				quiltErr(t, body, ctype)
				// Only metadata.
				body, ctype = multipartBody(t, nil, `[]`)
				quiltErr(t, body, ctype)
				// Bad metadata.
				body, ctype = multipartBody(t, files, `{"not": "a list"}`)
				quiltErr(t, body, ctype)
				body, ctype = multipartBody(t, files, `[{"identifier": "a"}, {"identifier": "a"}]`)
				quiltErr(t, body, ctype)
				// Invalid identifiers.
				body, ctype = multipartBody(t, map[string][]byte{"trailing ": []byte("x")}, "")
				quiltErr(t, body, ctype)
				ctl := "--b\r\nContent-Disposition: form-data; name=\"ctl\x01\"\r\n\r\n1\r\n--b--\r\n"
				quiltErr(t, strings.NewReader(ctl), "multipart/form-data; boundary=b")
				// Two fields with one name.
				dup := "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n2\r\n--b--\r\n"
				quiltErr(t, strings.NewReader(dup), "multipart/form-data; boundary=b")
				// Over the quilt limit.
				body, ctype = multipartBody(t, map[string][]byte{"big": make([]byte, cfg.MaxQuiltBodySize)}, "")
				textErr(t, http.MethodPut, "/v1/quilts", body, http.Header{"Content-Type": {ctype}}, http.StatusRequestEntityTooLarge, "length limit exceeded")
				body, ctype = multipartBody(t, map[string][]byte{"big": make([]byte, cfg.MaxQuiltBodySize)}, "")
				textErr(t, http.MethodPut, "/v1/quilts", io.MultiReader(body), http.Header{"Content-Type": {ctype}}, http.StatusRequestEntityTooLarge, "length limit exceeded")
			})
			t.Run("routes", func(t *testing.T) {
				textErr(t, http.MethodGet, "/v1/nothing", nil, nil, http.StatusNotFound, "")
				textErr(t, http.MethodPost, "/v1/blobs", bytes.NewReader(blob), nil, http.StatusMethodNotAllowed, "")
				textErr(t, http.MethodGet, "/v1/blobs", nil, nil, http.StatusMethodNotAllowed, "")
				textErr(t, http.MethodDelete, "/v1/blobs/abc", nil, nil, http.StatusNotFound, "")
			})
			t.Run("client gone mid-body", func(t *testing.T) {
				pr, pw := io.Pipe()
				req, _ := http.NewRequest(http.MethodPut, tp.url+"/v1/blobs", pr)
				ctx, cancel := context.WithCancel(context.Background())
				req = req.WithContext(ctx)
				done := make(chan struct{})
				go func() {
					defer close(done)
					resp, err := http.DefaultClient.Do(req)
					if err == nil {
						resp.Body.Close()
					}
				}()
				pw.Write(make([]byte, 100_000))
				time.Sleep(100 * time.Millisecond)
				cancel()
				pw.CloseWithError(io.ErrUnexpectedEOF)
				<-done
			})
			// Unknown parameters are ignored, as the spec advises.
			code, body, _ := put(t, tp.url, "/v1/blobs?cache_buster=1&epochs=1", bytes.NewReader(blob), nil)
			if code != http.StatusOK {
				t.Errorf("unknown parameter: %d %s", code, body)
			}
			noJobLeft(t, st, spool)
			all, _, _ := st.List(context.Background(), jobs.ListOptions{})
			failed := 0
			for _, j := range all {
				if j.State == jobs.StateFailed {
					failed++
					if !strings.Contains(j.Failure, "too large") {
						t.Errorf("failed job %s: %s", j.ID, j.Failure)
					}
				}
			}
			// Only the blob too large for the shards became a job (it is
			// refused once encoding finds it out); every other refusal
			// came before any job.
			if len(all) != 2 || failed != 1 {
				t.Errorf("%d jobs, %d failed; want 2 and 1", len(all), failed)
			}
		})
	}
}
