// Package browsertest runs Go tests in a real browser: Debian's headless
// Chromium, driven over the DevTools protocol with chromedp.
//
//	ctx := browsertest.New(t)          // a fresh browser with one tab
//	chromedp.Do(ctx, chromedp.Navigate(url), ...)
//	browsertest.Screenshot(t, ctx, "upload")
//	if f := browsertest.Failures(ctx); len(f) > 0 { t.Errorf(...) }
//
// New finds the browser in $HAULOUT_CHROMIUM or on PATH (chromium,
// chromium-browser). Without one the test is skipped, unless CI=true: then it
// fails, because CI installs chromium (.ci/run) and a browser test that
// silently skips there tests nothing.
//
// The browser runs headless with a fresh profile in a temporary directory and
// with background networking, component updates, sync and QUIC off: test
// machines have no internet, and Chromium's own background requests would
// only fill the logs with refused connections.
//
// From the start of the tab, New records what a person would see as broken in
// DevTools: requests that failed to load (refused, blocked by CORS, ...),
// responses with HTTP status 400 or more, console.error calls, browser log
// errors and uncaught exceptions (in the page and in its dedicated workers'
// logs as far as Chromium reports them to the page). Failures returns them; a
// test decides which it expects. The browser's own request for /favicon.ico
// and requests cancelled by the page are not failures.
//
// Screenshots are written to $HAULOUT_SCREENSHOTS when it is set (kept for
// review), otherwise to the test's temporary directory (deleted after the
// test); the path is logged either way.
package browsertest
