package browsertest_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haulout/haulout/internal/browsertest"
)

// A page that breaks in each of the ways Failures reports, and one that does
// not: the good page must yield no failures, the bad one each kind.
func TestFailuresAndScreenshot(t *testing.T) {
	// A port with nothing listening: the request to it is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/gone"
	l.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>good</title><h1 id="h">fine</h1><script>console.log("hello")</script>`)
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>bad</title><h1>broken</h1>
<img src="/missing.png">
<script>
console.error("boom", 42);
fetch(%q).catch(() => {});
setTimeout(() => { throw new Error("uncaught kaboom") }, 0);
</script>`, refused)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/good"), chromedp.WaitVisible(chromedp.ID("h"))); err != nil {
		t.Fatal(err)
	}
	if f := browsertest.Failures(ctx); len(f) != 0 {
		t.Fatalf("good page: failures %v", f)
	}
	path := browsertest.Screenshot(t, ctx, "good")
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG", path)
	}

	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"http":      "/missing.png",
		"request":   refused,
		"console":   "boom 42",
		"exception": "uncaught kaboom",
	}
	var got []browsertest.Failure
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = browsertest.Failures(ctx)
		if allSeen(got, want) {
			return
		}
	}
	t.Fatalf("bad page: failures %v, want one of each of %v", got, want)
}

func allSeen(got []browsertest.Failure, want map[string]string) bool {
	for kind, text := range want {
		seen := false
		for _, f := range got {
			if f.Kind == kind && strings.Contains(f.String(), text) {
				seen = true
			}
		}
		if !seen {
			return false
		}
	}
	return true
}
