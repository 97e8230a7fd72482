package publisher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/internal/apierr"
)

func TestParseStoreQuery(t *testing.T) {
	addr := "0x" + strings.Repeat("11", 32)
	obj, _ := chain.ParseObjectID(addr)
	for _, tc := range []struct {
		raw  string
		want storeQuery
		text bool   // a 400 in plain text (a query rejection)
		json string // a JSON error's reason
	}{
		{raw: "", want: storeQuery{Epochs: 1, Wait: true}},
		{raw: "epochs=11", want: storeQuery{Epochs: 11, Wait: true}},
		{raw: "epochs=0", want: storeQuery{Epochs: 0, Wait: true}}, // refused later, against the ledger
		{raw: "epochs=max", text: true},
		{raw: "epochs=1.5", text: true},
		{raw: "epochs=4294967296", text: true},
		{raw: "epochs=1&epochs=2", text: true},
		{raw: "permanent=true", want: storeQuery{Epochs: 1, Permanent: true, Wait: true}},
		{raw: "deletable=true", want: storeQuery{Epochs: 1, Deletable: true, Wait: true}},
		{raw: "deletable=true&permanent=true", json: "INVALID_BLOB_PERSISTENCE"},
		{raw: "deletable=false&permanent=true", want: storeQuery{Epochs: 1, Permanent: true, Wait: true}},
		{raw: "permanent=True", text: true},
		{raw: "permanent=1", text: true},
		{raw: "force=true&reuse_resources=true", want: storeQuery{Epochs: 1, Force: true, ReuseResources: true, Wait: true}},
		{raw: "send_object_to=" + addr, want: storeQuery{Epochs: 1, SendObjectTo: &obj, Wait: true}},
		{raw: "send_object_to=0x11", want: func() storeQuery {
			o, _ := chain.ParseObjectID("0x11")
			return storeQuery{Epochs: 1, SendObjectTo: &o, Wait: true}
		}()},
		{raw: "send_object_to=nothex", text: true},
		{raw: "share=true", want: storeQuery{Epochs: 1, Share: true, Wait: true}},
		{raw: "share=false", want: storeQuery{Epochs: 1, Wait: true}},
		{raw: "share=true&send_object_to=" + addr, text: true},
		{raw: "send_object_to=" + addr + "&share=false", text: true},
		{raw: "share=false&share=true", text: true},
		{raw: "encoding_type=RS2", want: storeQuery{Epochs: 1, Wait: true}},
		{raw: "encoding_type=rs2", text: true},
		{raw: "quilt_version=V1&quilt_version_x=1", want: storeQuery{Epochs: 1, Wait: true}},
		{raw: "quilt_version=2", text: true},
		{raw: "wait=false", want: storeQuery{Epochs: 1}},
		{raw: "unknown=whatever&epochs=2", want: storeQuery{Epochs: 2, Wait: true}},
		{raw: "epochs=%zz", text: true},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := parseStoreQuery(tc.raw, 1)
			var he *echo.HTTPError
			var ae *apierr.Error
			switch {
			case tc.text:
				if !errors.As(err, &he) || he.Code != http.StatusBadRequest || !strings.HasPrefix(he.Message.(string), "Failed to deserialize query string") {
					t.Errorf("error %v, want a 400 query rejection", err)
				}
			case tc.json != "":
				if !errors.As(err, &ae) || ae.Reason != tc.json || ae.Code() != http.StatusBadRequest {
					t.Errorf("error %v, want %s", err, tc.json)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case got.Epochs != tc.want.Epochs || got.Permanent != tc.want.Permanent || got.Deletable != tc.want.Deletable ||
				got.Force != tc.want.Force || got.ReuseResources != tc.want.ReuseResources || got.Share != tc.want.Share ||
				got.Wait != tc.want.Wait || (got.SendObjectTo == nil) != (tc.want.SendObjectTo == nil) ||
				(got.SendObjectTo != nil && *got.SendObjectTo != *tc.want.SendObjectTo):
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseStoreQuery(f *testing.F) {
	for _, s := range []string{"", "epochs=3&permanent=true", "share=true&send_object_to=0x1", "deletable=true&permanent=true", "epochs=%zz", "a=b&a=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseStoreQuery(raw, 1)
		if err != nil {
			return
		}
		if q.Permanent && q.Deletable {
			t.Fatalf("%q: accepted permanent and deletable", raw)
		}
		if q.Share && q.SendObjectTo != nil {
			t.Fatalf("%q: accepted share and send_object_to", raw)
		}
	})
}

func FuzzReadQuiltForm(f *testing.F) {
	body, _ := multipartBody(f, map[string][]byte{"a.txt": []byte("A"), "b": []byte("BB")}, `[{"identifier":"a.txt","tags":{"k":"v","n":1}}]`)
	f.Add(body.Bytes())
	f.Add([]byte("--haulout-test-boundary--\r\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := readQuiltForm(bytes.NewReader(b), "haulout-test-boundary", 8)
		if err != nil {
			return
		}
		if len(files) > 8 {
			t.Fatalf("%d files, at most 8 allowed", len(files))
		}
		for i, f := range files {
			if i > 0 && files[i-1].Identifier >= f.Identifier {
				t.Fatalf("files not sorted and distinct: %q then %q", files[i-1].Identifier, f.Identifier)
			}
		}
	})
}

// TestOverload: beyond the uploads served at once and those waiting, a
// request gets Walrus's 429 in plain text, and nothing is left behind.
func TestOverload(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	cfg := testConfig(t, tn, st, spool)
	cfg.MaxConcurrentUploads = 1
	cfg.MaxBufferedUploads = 1
	tp := startPublisher(t, cfg)

	// Two uploads whose bodies arrive slowly: one served, one waiting.
	var writers []*io.PipeWriter
	done := make(chan int, 2)
	for range 2 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			req, _ := http.NewRequest(http.MethodPut, tp.url+"/v1/blobs", pr)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		pw.Write([]byte("first bytes "))
	}
	deadline := time.Now().Add(5 * time.Second)
	for tp.adm.waiting.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second upload is not waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
	code, body, _ := put(t, tp.url, "/v1/blobs", strings.NewReader("third"), nil)
	if code != http.StatusTooManyRequests || string(body) != overloadMessage {
		t.Errorf("third upload: %d %q", code, body)
	}
	for _, w := range writers {
		w.Write([]byte("and the rest"))
		w.Close()
	}
	for range 2 {
		if c := <-done; c != http.StatusOK {
			t.Errorf("slow upload: %d", c)
		}
	}
	noJobLeft(t, st, spool)
}

// TestActiveJobsLimit: with MaxActiveJobs jobs at work, a new upload gets
// 429 before its body is read.
func TestActiveJobsLimit(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	cfg := testConfig(t, tn, st, t.TempDir())
	cfg.MaxActiveJobs = 1
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.slots <- struct{}{} // one job at work
	w := httpDo(p.Handler(), http.MethodPut, "/v1/blobs", "x")
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	<-p.slots
	w = httpDo(p.Handler(), http.MethodPut, "/v1/blobs?wait=false", "x")
	if w.Code != http.StatusAccepted {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	p.Close()
	ctx := context.Background()
	if n, err := st.ReleaseOwner(ctx, cfg.Owner); err != nil || n != 0 {
		t.Errorf("leases left after Close: %d, %v", n, err)
	}
}
