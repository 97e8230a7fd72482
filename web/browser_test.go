package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/browsertest"
	"github.com/haulout/haulout/web"
)

// uploadWait bounds one upload in the page: encoding, sending and
// certification of a small file on a loopback network.
const uploadWait = 60 * time.Second

// TestPages drives the pages in Chromium against a whole network: an upload
// through the publisher and one straight to the nodes, each read back
// through the aggregator byte for byte with the blob ID the page showed
// equal to the codec's; the browse page on both; and an unreachable
// publisher shown as an error that can be retried.
func TestPages(t *testing.T) {
	ctx := browsertest.New(t)
	// Node 3 is a Walrus-like node without the batch route: the page falls
	// back to one PUT per sliver.
	tn := newTestNetOpts(t, netOptions{walrusLike: map[int]bool{3: true}}, 3, 3, 2, 2)
	dir := t.TempDir()

	// A text file (shown in the browse page) and a binary one (offered for
	// download).
	text := bytes.Repeat([]byte("haulout stores this line in Walrus-style blobs.\n"), 3000)
	textPath := filepath.Join(dir, "notes.txt")
	binary := make([]byte, 200_003)
	for i := range binary {
		binary[i] = byte(i*7 + i/251)
	}
	binPath := filepath.Join(dir, "data.bin")
	for p, b := range map[string][]byte{textPath: text, binPath: binary} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var textID, binID string
	t.Run("publisher", func(t *testing.T) {
		textID = upload(t, ctx, tn.aggURL+"/", "publisher", textPath, "notes.txt")
		checkBlob(t, tn, textID, text)
		browsertest.Screenshot(t, ctx, "upload-publisher")
	})
	t.Run("direct", func(t *testing.T) {
		binID = upload(t, ctx, tn.aggURL+"/", "direct", binPath, "data.bin")
		checkBlob(t, tn, binID, binary)
		// Every node confirmed, in its own progress row.
		states, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('li.upload[data-file="data.bin"] tr[data-node]')].map(r => r.dataset.state)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 4 {
			t.Errorf("node rows %v, want 4", states)
		}
		for i, s := range states {
			if s != "confirmed" {
				t.Errorf("node %d: %s, want confirmed", i, s)
			}
		}
		// Node 3's 2 shards: 4 slivers, one PUT each.
		if n := tn.singlePuts.Load(); n != 4 {
			t.Errorf("%d single-sliver PUTs to the node without the batch route, want 4", n)
		}
		browsertest.Screenshot(t, ctx, "upload-direct")
	})
	t.Run("drop", func(t *testing.T) {
		// A file dropped on the page, as a person drags one from elsewhere.
		tctx, cancel := context.WithTimeout(ctx, uploadWait)
		defer cancel()
		const content = "dropped, not picked\n"
		if err := chromedp.Do(tctx,
			chromedp.Navigate(tn.aggURL+"/"),
			chromedp.WaitVisible(`body[data-ready=true]`),
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const dt = new DataTransfer();
				dt.items.add(new File([%q], 'dropped.txt', { type: 'text/plain' }));
				document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
			})()`, content)),
		); err != nil {
			t.Fatal(err)
		}
		state, err := chromedp.Run(tctx, chromedp.Poll[string](
			`(() => { const li = document.querySelector('li.upload[data-file="dropped.txt"]'); return li && (li.dataset.state === 'done' || li.dataset.state === 'failed') ? li.dataset.state : null })()`,
			chromedp.WithPollingTimeout(0)))
		if err != nil || state != "done" {
			t.Fatalf("dropped file: %s %v", state, err)
		}
		checkBlob(t, tn, textOf(t, tctx, `li.upload[data-file="dropped.txt"] .blob-id`), []byte(content))
	})
	if t.Failed() {
		t.FailNow()
	}
	// The one failure expected: node 3 has no batch route.
	for _, f := range browsertest.Failures(ctx) {
		if !(f.Kind == "http" && strings.HasSuffix(f.URL, "/slivers") && strings.Contains(f.Text, "HTTP 404")) {
			t.Errorf("the uploads went wrong in the browser: %v", f)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	failuresBefore := len(browsertest.Failures(ctx))

	t.Run("browse", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx,
			chromedp.Navigate(tn.aggURL+"/ui/browse.html?id="+textID),
			chromedp.WaitVisible(`#blob[data-state=loaded]`),
		); err != nil {
			t.Fatal(err)
		}
		status := textOf(t, tctx, "#blob-status")
		if !strings.HasPrefix(status, "certified") {
			t.Errorf("status %q, want certified", status)
		}
		if expiry := textOf(t, tctx, "#blob-expiry"); !strings.Contains(expiry, "epoch 6") {
			t.Errorf("expiry %q, want epoch 6 (5 epochs from epoch 1)", expiry)
		}
		shown, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('blob-text').textContent`))
		if err != nil {
			t.Fatal(err)
		}
		if shown != string(text) {
			t.Errorf("the page shows %d bytes of text, want the %d uploaded", len(shown), len(text))
		}
		// Both uploads are in this browser's list.
		listed, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('#mine tbody tr')].map(r => r.dataset.blobId)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != 3 || listed[1] != binID || listed[2] != textID {
			t.Errorf("stored from this browser: %v, want [(dropped.txt) %s %s]", listed, binID, textID)
		}
		browsertest.Screenshot(t, tctx, "browse-text")

		// A binary blob is offered for download, not shown.
		if err := chromedp.Do(tctx,
			chromedp.Navigate(tn.aggURL+"/ui/browse.html?id="+binID),
			chromedp.WaitVisible(`#blob[data-state=loaded]`),
		); err != nil {
			t.Fatal(err)
		}
		if typ := textOf(t, tctx, "#blob-type"); !strings.HasPrefix(typ, "application/octet-stream") {
			t.Errorf("type %q, want application/octet-stream", typ)
		}
		browsertest.Screenshot(t, tctx, "browse-binary")

		// A PNG stored by someone else (not in this browser's list): its type
		// comes from its first bytes, and the page shows the image.
		pngID := putPublisher(t, tn, testPNG(t))
		if err := chromedp.Do(tctx,
			chromedp.Navigate(tn.aggURL+"/ui/browse.html?id="+pngID),
			chromedp.WaitVisible(`#blob[data-state=loaded]`),
		); err != nil {
			t.Fatal(err)
		}
		if typ := textOf(t, tctx, "#blob-type"); typ != "image/png (from its first bytes)" {
			t.Errorf("type %q, want image/png from its first bytes", typ)
		}
		width, err := chromedp.Run(tctx, chromedp.Poll[int](
			`(() => { const img = document.querySelector('#blob-view img'); return img && img.complete && img.naturalWidth })()`))
		if err != nil || width != 96 {
			t.Errorf("the image shown is %d pixels wide (%v), want 96", width, err)
		}
		browsertest.Screenshot(t, tctx, "browse-image")
		if f := browsertest.Failures(ctx)[failuresBefore:]; len(f) != 0 {
			t.Fatalf("browsing went wrong in the browser: %v", f)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		unknown, err := codec.ComputeBlobID([]byte("never stored"), tn.nShards)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tctx,
			chromedp.Navigate(tn.aggURL+"/ui/browse.html?id="+unknown.String()),
			chromedp.WaitVisible(`#blob[data-state=failed]`),
		); err != nil {
			t.Fatal(err)
		}
		if msg := textOf(t, tctx, "#blob-error"); !strings.Contains(msg, "no certified blob") {
			t.Errorf("error %q", msg)
		}
		if status := textOf(t, tctx, "#blob-status"); !strings.HasPrefix(status, "unknown") {
			t.Errorf("status %q, want unknown", status)
		}
		// Not a blob ID at all: said before asking anyone.
		if err := chromedp.Do(tctx,
			chromedp.SetValue(chromedp.ID("blob-id"), "not-a-blob-id"),
			chromedp.Click(chromedp.CSS(`#open button`)),
		); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
			`document.getElementById('blob-error').textContent.includes('is not a blob ID')`)); err != nil {
			t.Errorf("no error for an invalid blob ID (%v): %q", err, textOf(t, tctx, "#blob-error"))
		}
		browsertest.Screenshot(t, tctx, "browse-invalid-id")
	})

	t.Run("no-codec", func(t *testing.T) {
		// A binary built without go generate: the page says what to do.
		srv := httptest.NewServer(web.Handler(web.Config{
			PublisherURL: tn.publisherURL, LedgerURL: tn.ledgerURL, AggregatorURL: tn.aggURL, Codec: fstest.MapFS{},
		}))
		defer srv.Close()
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(`#page-error`)); err != nil {
			t.Fatal(err)
		}
		if msg := textOf(t, tctx, "#page-error"); !strings.Contains(msg, "built without the browser codec: run `make build`") {
			t.Errorf("page error %q", msg)
		}
	})

	t.Run("publisher-down", func(t *testing.T) {
		// The same pages with a publisher that refuses connections.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		down := "http://" + ln.Addr().String()
		ln.Close()
		srv := httptest.NewServer(web.Handler(web.Config{
			PublisherURL: down, LedgerURL: tn.ledgerURL, AggregatorURL: tn.aggURL, Codec: os.DirFS(builtCodec(t)),
		}))
		defer srv.Close()
		tctx, cancel := context.WithTimeout(ctx, uploadWait)
		defer cancel()
		state, msg := startUpload(t, tctx, srv.URL+"/", "publisher", textPath, "notes.txt")
		if state != "failed" {
			t.Fatalf("upload with the publisher down: %s, want failed", state)
		}
		if !strings.Contains(msg, "cannot reach the publisher at "+down) {
			t.Errorf("error shown: %q", msg)
		}
		retry, err := chromedp.Run(tctx, chromedp.Evaluate[bool](
			`!document.querySelector('li.upload[data-file="notes.txt"] button.retry').hidden`))
		if err != nil || !retry {
			t.Errorf("no Retry button (%v)", err)
		}
		browsertest.Screenshot(t, tctx, "upload-publisher-down")
	})
}

// A direct upload (of a permanent blob) that cannot reach a quorum says
// which nodes failed, and its retry, once they are back, keeps the
// registration and the confirmations it has and certifies.
func TestDirectRetry(t *testing.T) {
	ctx := browsertest.New(t)
	tn := newTestNetOpts(t, netOptions{down: map[int]bool{0: true, 1: true}}, 3, 3, 2, 2)
	data := bytes.Repeat([]byte{0xfe, 0x00, 0x17}, 40_000)
	path := filepath.Join(t.TempDir(), "retry.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 2*uploadWait)
	defer cancel()
	// A permanent blob this time: its confirmations are for no Blob object.
	state, msg := startUpload(t, tctx, tn.aggURL+"/", "direct", path, "retry.bin", chromedp.Click(chromedp.ID("deletable")))
	if state != "failed" || !strings.Contains(msg, "only 4 of 10 shards confirmed, 7 needed: failed nodes node-0, node-1") {
		t.Fatalf("upload with 2 of 4 nodes down: %s: %q", state, msg)
	}
	item := `li.upload[data-file="retry.bin"]`
	states, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('`+item+` tr[data-node]')].map(r => r.dataset.state)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(states, " ") != "failed failed confirmed confirmed" {
		t.Errorf("node rows %v", states)
	}
	browsertest.Screenshot(t, tctx, "direct-quorum-failed")
	// Every failure the browser saw is a refused connection to a down node.
	for _, f := range browsertest.Failures(ctx) {
		if !(f.Kind == "request" && (strings.HasPrefix(f.URL, tn.nodeURLs[0]) || strings.HasPrefix(f.URL, tn.nodeURLs[1]))) {
			t.Errorf("unexpected failure in the browser: %v", f)
		}
	}

	tn.startNode(0)
	tn.startNode(1)
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(item+" button.retry"))); err != nil {
		t.Fatal(err)
	}
	state, err = chromedp.Run(tctx, chromedp.Poll[string](
		`(() => { const s = document.querySelector('`+item+`').dataset.state; return s === 'done' || s === 'failed' ? s : null })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil || state != "done" {
		t.Fatalf("retry: %s %v: %q", state, err, textOf(t, ctx, item))
	}
	checkBlob(t, tn, textOf(t, tctx, item+" .blob-id"), data)
	// One registration: the retry kept the Blob object.
	id, _ := codec.ComputeBlobID(data, tn.nShards)
	objs, err := tn.ledger.BlobObjects(tctx, id)
	if err != nil || len(objs) != 1 || objs[0].Deletable || !objs[0].Certified() {
		t.Errorf("Blob objects after the retry: %+v (%v), want 1, permanent and certified", objs, err)
	}
	browsertest.Screenshot(t, tctx, "direct-retried")
}

// upload stores file through the page at pageURL in mode, checks that it
// ends stored and certified, and returns the blob ID the page showed.
func upload(t *testing.T, ctx context.Context, pageURL, mode, path, name string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, uploadWait)
	defer cancel()
	state, msg := startUpload(t, tctx, pageURL, mode, path, name)
	if state != "done" {
		t.Fatalf("upload of %s (%s): %s: %s", name, mode, state, msg)
	}
	return textOf(t, tctx, fmt.Sprintf(`li.upload[data-file=%q] .blob-id`, name))
}

// startUpload opens the page, chooses the mode, gives it the file and waits
// until the upload is done or failed; it returns the state and the error
// shown, if any.
func startUpload(t *testing.T, ctx context.Context, pageURL, mode, path, name string, setup ...chromedp.Action[chromedp.Void]) (string, string) {
	t.Helper()
	item := fmt.Sprintf(`li.upload[data-file=%q]`, name)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(`body[data-ready=true]`),
		chromedp.Click(chromedp.CSS("#mode-" + mode)),
	}
	steps = append(steps, setup...)
	steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}, chromedp.NodeReady))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Poll[string](fmt.Sprintf(
		`(() => { const li = document.querySelector(%q); return li && (li.dataset.state === 'done' || li.dataset.state === 'failed') ? li.dataset.state : null })()`, item),
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		t.Fatalf("waiting for the upload of %s: %v (page says %q)", name, err, textOf(t, context.WithoutCancel(ctx), item))
	}
	msg := ""
	if state == "failed" {
		msg = textOf(t, ctx, item+" .error")
	}
	return state, msg
}

// checkBlob checks that the page's blob ID is the codec's for data (what
// `haulout blob-id` prints) and that the aggregator serves data under it.
func checkBlob(t *testing.T, tn *testNet, shown string, data []byte) {
	t.Helper()
	want, err := codec.ComputeBlobID(data, tn.nShards)
	if err != nil {
		t.Fatal(err)
	}
	if shown != want.String() {
		t.Fatalf("the page showed blob ID %q, the codec computes %s", shown, want)
	}
	res, err := http.Get(tn.aggURL + "/v1/blobs/" + shown)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("aggregator: %s, %d bytes, equal %v; want the %d bytes uploaded", res.Status, len(got), bytes.Equal(got, data), len(data))
	}
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// testPNG is a 96x64 gradient.
func testPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// putPublisher stores data through the publisher's API, not the page, and
// returns its blob ID.
func putPublisher(t *testing.T, tn *testNet, data []byte) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, tn.publisherURL+"/v1/blobs?epochs=2", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		NewlyCreated struct {
			BlobObject struct {
				BlobID string `json:"blobId"`
			} `json:"blobObject"`
		} `json:"newlyCreated"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || out.NewlyCreated.BlobObject.BlobID == "" {
		t.Fatalf("PUT /v1/blobs: %s %v", res.Status, err)
	}
	return out.NewlyCreated.BlobObject.BlobID
}
