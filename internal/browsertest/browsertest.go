package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Window size of the tab: wide enough for the pages' two-column layouts.
const (
	width  = 1280
	height = 900
)

// startTimeout bounds the launch of the browser: a browser that does not come
// up in this time is broken, and the test should say so rather than hang.
const startTimeout = time.Minute

// Failure is one thing that went wrong in the tab.
type Failure struct {
	// Kind is "request" (failed to load), "http" (status >= 400),
	// "console" (console.error or a browser log error) or "exception".
	Kind string
	// URL is the request's URL, or the script's where known.
	URL string
	// Text says what happened: the network error, the status, the message.
	Text string
}

func (f Failure) String() string {
	if f.URL == "" {
		return f.Kind + ": " + f.Text
	}
	return f.Kind + " " + f.URL + ": " + f.Text
}

// Browser finds the Chromium executable: $HAULOUT_CHROMIUM, else chromium or
// chromium-browser on PATH. It returns "" when there is none.
func Browser() string {
	if p := os.Getenv("HAULOUT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

type collectorKey struct{}

// collector gathers failures from the tab's events. Its listener runs on
// chromedp's event goroutine, so it only records and returns.
type collector struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string // in-flight requests, for loadingFailed
	failures []Failure
}

func (c *collector) add(f Failure) {
	c.mu.Lock()
	c.failures = append(c.failures, f)
	c.mu.Unlock()
}

// ignored reports requests that the browser makes by itself.
func ignored(url string) bool {
	return strings.HasSuffix(url, "/favicon.ico")
}

func (c *collector) listen(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		c.mu.Lock()
		c.urls[ev.RequestID] = ev.Request.URL
		c.mu.Unlock()
	case *network.EventResponseReceived:
		if ev.Response != nil && ev.Response.Status >= 400 && !ignored(ev.Response.URL) {
			c.add(Failure{Kind: "http", URL: ev.Response.URL,
				Text: fmt.Sprintf("HTTP %d %s", ev.Response.Status, ev.Response.StatusText)})
		}
	case *network.EventLoadingFinished:
		c.mu.Lock()
		delete(c.urls, ev.RequestID)
		c.mu.Unlock()
	case *network.EventLoadingFailed:
		c.mu.Lock()
		url := c.urls[ev.RequestID]
		delete(c.urls, ev.RequestID)
		c.mu.Unlock()
		if ev.Canceled || ignored(url) {
			return
		}
		text := ev.ErrorText
		if ev.BlockedReason != "" {
			text += " (blocked: " + string(ev.BlockedReason) + ")"
		}
		if ev.CorsErrorStatus != nil {
			text += " (CORS: " + string(ev.CorsErrorStatus.CorsError) + " " + ev.CorsErrorStatus.FailedParameter + ")"
		}
		c.add(Failure{Kind: "request", URL: url, Text: text})
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			switch {
			case a.Value != nil:
				s := string(a.Value)
				if u, err := unquote(s); err == nil {
					s = u
				}
				parts = append(parts, s)
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Type))
			}
		}
		url := ""
		if ev.StackTrace != nil && len(ev.StackTrace.CallFrames) > 0 {
			url = ev.StackTrace.CallFrames[0].URL
		}
		c.add(Failure{Kind: "console", URL: url, Text: strings.Join(parts, " ")})
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		c.add(Failure{Kind: "exception", URL: d.URL, Text: text})
	case *log.EventEntryAdded:
		e := ev.Entry
		// Network errors are already recorded from the Network domain, with
		// more detail; the log repeats them.
		if e == nil || e.Level != log.EntryLevelError || e.Source == log.EntrySourceNetwork || ignored(e.URL) {
			return
		}
		c.add(Failure{Kind: "console", URL: e.URL, Text: e.Text})
	}
}

// unquote turns a JSON string value into its text.
func unquote(s string) (string, error) {
	var out string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// New starts a headless Chromium for the test and returns the context of a tab
// in it, for chromedp.Run and chromedp.Do. The browser closes when the test
// ends. New skips the test when there is no browser and CI is not "true".
//
// The returned context has no deadline: derive one for steps that could hang
// (the browser's life is bound to this context, not to the derived ones).
func New(t testing.TB) context.Context {
	t.Helper()
	path := Browser()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("browsertest: no chromium on PATH (nor $HAULOUT_CHROMIUM), and CI=true: .ci/run installs it")
		}
		t.Skip("browsertest: no chromium on PATH (nor $HAULOUT_CHROMIUM); install Debian's chromium to run this test")
	}
	profile, err := os.MkdirTemp("", "haulout-chromium-")
	if err != nil {
		t.Fatalf("browsertest: profile directory: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	col := &collector{urls: make(map[network.RequestID]string)}
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(col.listen),
		chromedp.WithLogf(func(format string, args ...any) { t.Logf("chromedp: "+format, args...) }),
	)
	ctx = context.WithValue(ctx, collectorKey{}, col)
	t.Cleanup(func() {
		// Close gracefully, wait for the process, then drop its profile.
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(closeCtx)
		cancel()
		cancelTab()
		cancelAlloc()
		if err := os.RemoveAll(profile); err != nil {
			t.Logf("browsertest: removing the profile: %v", err)
		}
	})

	// Start the browser now, on the context without a deadline, so that its
	// life is the test's and not that of the caller's first timed step.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browsertest: starting %s: %v", path, err)
		}
	case <-time.After(startTimeout):
		t.Fatalf("browsertest: %s did not start within %v", path, startTimeout)
	}
	return ctx
}

// Failures returns what went wrong in the tab of ctx (a context from New, or
// derived from it) since it opened, oldest first.
func Failures(ctx context.Context) []Failure {
	col, _ := ctx.Value(collectorKey{}).(*collector)
	if col == nil {
		return nil
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	return append([]Failure(nil), col.failures...)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ScreenshotDir returns the directory Screenshot writes to for t: the value of
// $HAULOUT_SCREENSHOTS (created if needed), else a temporary directory of t.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("HAULOUT_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("browsertest: HAULOUT_SCREENSHOTS: %v", err)
		}
		return dir
	}
	if dir, ok := tempDirs.Load(t); ok {
		return dir.(string)
	}
	dir := t.TempDir()
	tempDirs.Store(t, dir)
	t.Cleanup(func() { tempDirs.Delete(t) })
	return dir
}

// tempDirs keeps one screenshot directory per test.
var tempDirs sync.Map // testing.TB -> string

// Screenshot writes a PNG of the whole page in the tab of ctx to
// ScreenshotDir, named after the test and name, logs its path and returns it.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	file := unsafeName.ReplaceAllString(t.Name()+"-"+name, "_") + ".png"
	path := filepath.Join(ScreenshotDir(t), file)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	t.Logf("screenshot %s: %s", name, path)
	return path
}
