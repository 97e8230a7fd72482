package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haulout/haulout/internal/browsertest"
)

// benchSize is the blob of the figures the issue asks for: 16 MiB of random
// bytes.
const benchSize = 16 << 20

// BenchmarkChromiumCodec times haulout's js/wasm codec and Walrus's
// @mysten/walrus-wasm (the baseline, installed by `make reference`) in one
// Web Worker of headless Chromium, on the same 16 MiB, at 1000 and 100
// shards: the blob ID (metadata only) and a full encode into BCS slivers.
// It reports the median time of each in the browser and the median of
// haulout's time over Walrus's, run by run (ns/op is the pair's).
func BenchmarkChromiumCodec(b *testing.B) {
	walrusDir := filepath.Join("..", "codec", "testdata", "walrus-reference", "node_modules", "@mysten", "walrus-wasm", "web")
	if _, err := os.Stat(filepath.Join(walrusDir, "walrus_wasm_bg.wasm")); err != nil {
		b.Skipf("Walrus's encoder is not installed (make reference): %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/bench/", http.StripPrefix("/bench/", http.FileServer(http.Dir(filepath.Join("testdata", "bench")))))
	mux.Handle("/codec/", http.StripPrefix("/codec/", http.FileServer(http.Dir(builtCodec(b)))))
	mux.Handle("/walrus/", http.StripPrefix("/walrus/", http.FileServer(http.Dir(walrusDir))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(b)
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	err := chromedp.Do(tctx, chromedp.Navigate(fmt.Sprintf("%s/bench/index.html?size=%d", srv.URL, benchSize)))
	if err == nil {
		_, err = chromedp.Run(tctx, chromedp.Evaluate[int](`window.benchReady`, chromedp.EvalAwaitPromise))
	}
	cancel()
	if err != nil {
		b.Fatalf("loading the codecs: %v (%v)", err, browsertest.Failures(ctx))
	}

	// Each iteration times Walrus's codec, then haulout's, on the same
	// bytes: on a shared machine the ratio of the two, taken pair by pair,
	// drifts less with the load than either time.
	run := func(b *testing.B, codec, op string, n int) float64 {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		ms, err := chromedp.Run(rctx, chromedp.Evaluate[float64](
			fmt.Sprintf(`window.bench(%q, %q, %d)`, codec, op, n), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		return ms
	}
	for _, n := range []int{1000, 100} {
		for _, op := range []string{"blobId", "encode"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, op), func(b *testing.B) {
				var walrus, haulout, ratio []float64
				for b.Loop() {
					w := run(b, "walrus", op, n)
					h := run(b, "haulout", op, n)
					walrus, haulout, ratio = append(walrus, w), append(haulout, h), append(ratio, h/w)
				}
				// The browser's own clock: the call in the worker, without
				// the DevTools round trip.
				b.ReportMetric(median(walrus), "walrus-ms")
				b.ReportMetric(median(haulout), "haulout-ms")
				b.ReportMetric(median(ratio), "haulout/walrus")
				b.ReportMetric(benchSize/1e6/(median(haulout)/1000), "haulout-MB/s")
			})
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
