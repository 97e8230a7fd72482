package devnet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haulout/haulout/internal/browsertest"
)

// The static-site test runs the real binary: a devnet, `haulout site
// deploy` of site/testdata/demo-site, headless Chromium on the site's
// {base36}.localhost host, an update in place, and the updated site read
// with one storage node (f of the shards) down.

// deployResult is the part of `haulout site deploy --json` the test reads.
type deployResult struct {
	SiteID          string   `json:"siteId"`
	Base36          string   `json:"base36"`
	Created         bool     `json:"created"`
	ManifestChanged bool     `json:"manifestChanged"`
	Uploaded        []string `json:"uploaded"`
	Unchanged       []string `json:"unchanged"`
	Removed         []string `json:"removed"`
}

func siteDeploy(t *testing.T, bin string, d *devnetProc, ledger, dir string, extra ...string) deployResult {
	t.Helper()
	args := append([]string{"site", "deploy", dir, "--epochs", "3", "--json",
		"--publisher", "http://" + d.pub, "--aggregator", "http://" + d.agg, "--ledger", ledger}, extra...)
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("haulout %s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), tails(filepath.Join(d.dir, "logs")))
	}
	var res deployResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("deploy output %s: %v", out, err)
	}
	return res
}

// copyDir copies the demo site so that the test can change it.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// page is what the browser saw of one page.
type page struct {
	URL, Title, App string
	H1Color         string
	LogoWidth       int
	Facts           int
}

// visit opens url, waits for the page (and, for pages with the app
// script, for it to have run), reads what a person would check, takes a
// screenshot and returns the failures the page caused that are not in
// expected (URL suffixes of 404s the test asks for).
func visit(t *testing.T, ctx context.Context, name, url string, scripted bool, expected ...string) page {
	t.Helper()
	before := len(browsertest.Failures(ctx))
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var p page
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(url)}
	if scripted {
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
	}
	err := chromedp.Do(tctx, steps...)
	if err == nil && scripted {
		p.App, err = chromedp.Run(tctx, chromedp.Text(chromedp.ID("app")))
	}
	if err == nil && scripted {
		p.Facts, err = chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#facts li").length`))
	}
	if err == nil && scripted {
		p.LogoWidth, err = chromedp.Run(tctx, chromedp.Evaluate[int](`document.getElementById("logo").naturalWidth`))
	}
	if err == nil {
		p.URL, err = chromedp.Run(tctx, chromedp.Location())
	}
	if err == nil {
		p.Title, err = chromedp.Run(tctx, chromedp.Text(chromedp.ID("title")))
	}
	if err == nil {
		p.H1Color, err = chromedp.Run(tctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("h1")).color`))
	}
	if err != nil {
		t.Fatalf("%s (%s): %v; failures: %v", name, url, err, browsertest.Failures(ctx)[before:])
	}
	browsertest.Screenshot(t, ctx, name)
	time.Sleep(200 * time.Millisecond) // late network events
	for _, f := range browsertest.Failures(ctx)[before:] {
		if f.Kind == "http" && slices.ContainsFunc(expected, func(s string) bool { return strings.HasSuffix(f.URL, s) }) {
			continue
		}
		t.Errorf("%s (%s): %s", name, url, f)
	}
	return p
}

func TestSiteInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the whole network and a browser")
	}
	ctx := browsertest.New(t)
	bin := buildHaulout(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	d := startDevnet(t, bin, dir)
	ledger := "http://" + d.ledger
	defer d.stop(t)
	siteDir := filepath.Join(t.TempDir(), "site")
	copyDir(t, filepath.Join("..", "site", "testdata", "demo-site"), siteDir)

	// Publish.
	v1 := siteDeploy(t, bin, d, ledger, siteDir)
	if !v1.Created || len(v1.Uploaded) != 8 || slices.Contains(v1.Uploaded, "/drafts/secret.html") {
		t.Fatalf("first deploy: %+v", v1)
	}
	_, port, _ := strings.Cut(d.agg, ":")
	origin := fmt.Sprintf("http://%s.localhost:%s", v1.Base36, port)
	t.Logf("site %s at %s", v1.SiteID, origin)

	const blue = "rgb(29, 78, 137)"
	home := visit(t, ctx, "home", origin+"/", true)
	if home.Title != "Haulout demo site" || home.H1Color != blue || home.LogoWidth != 96 || home.Facts != 3 || home.App != "Static page: /" {
		t.Errorf("home page: %+v", home)
	}
	about := visit(t, ctx, "about", origin+"/about.html", true)
	if about.Title != "About" || about.H1Color != blue {
		t.Errorf("about page: %+v", about)
	}
	route := visit(t, ctx, "client-route", origin+"/app/dashboard", true)
	if route.Title != "Haulout demo site" || route.App != "Client route: dashboard" || route.Facts != 3 {
		t.Errorf("client-side route: %+v", route)
	}
	moved := visit(t, ctx, "redirect", origin+"/old-page", true)
	if moved.URL != origin+"/about.html" || moved.Title != "About" {
		t.Errorf("redirect: %+v", moved)
	}
	missing := visit(t, ctx, "custom-404", origin+"/no/such/page", false, "/no/such/page")
	if missing.Title != "Page not found" || missing.H1Color != blue {
		t.Errorf("custom 404: %+v", missing)
	}
	if f := browsertest.Failures(ctx); !slices.ContainsFunc(f, func(f browsertest.Failure) bool {
		return f.Kind == "http" && strings.HasSuffix(f.URL, "/no/such/page") && strings.Contains(f.Text, "404")
	}) {
		t.Errorf("the custom 404 page was not answered with status 404: %v", f)
	}
	// The drafts ws-resources.json ignores were not published.
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.agg+"/drafts/secret.html", nil)
	req.Host = strings.TrimPrefix(origin, "http://") // Go's resolver has no *.localhost
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), "Page not found") {
		t.Errorf("ignored draft: %d %.100s", resp.StatusCode, body)
	}

	// One storage node down: 10 of 40 shards, f = 13.
	d.killNode(t, 2)

	// Update in place: one page changed, one added, one removed.
	about2 := strings.Replace(readFile(t, filepath.Join(siteDir, "about.html")), "Version one", "Version two", 1)
	writeFile(t, filepath.Join(siteDir, "about.html"), about2)
	writeFile(t, filepath.Join(siteDir, "news.html"), strings.Replace(about2, "<h1 id=\"title\">About</h1>", "<h1 id=\"title\">News</h1>", 1))
	if err := os.Remove(filepath.Join(siteDir, "images", "wave.svg")); err != nil {
		t.Fatal(err)
	}
	index := strings.Replace(readFile(t, filepath.Join(siteDir, "index.html")), `<img id="wave" src="/images/wave.svg" alt="wave" width="320" height="60">`, "", 1)
	writeFile(t, filepath.Join(siteDir, "index.html"), index)
	v2 := siteDeploy(t, bin, d, ledger, siteDir, "--site-id", v1.SiteID)
	slices.Sort(v2.Uploaded)
	if v2.SiteID != v1.SiteID || v2.Created || !v2.ManifestChanged ||
		!slices.Equal(v2.Uploaded, []string{"/about.html", "/index.html", "/news.html"}) ||
		!slices.Equal(v2.Removed, []string{"/images/wave.svg"}) || len(v2.Unchanged) != 5 {
		t.Fatalf("update: %+v", v2)
	}
	about = visit(t, ctx, "about-v2", origin+"/about.html", true)
	version, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("version")))
	if err != nil {
		t.Fatal(err)
	}
	if version != "Version two of the about page." || about.H1Color != blue || about.Facts != 3 {
		t.Errorf("updated about page: %q %+v", version, about)
	}
	news := visit(t, ctx, "news", origin+"/news.html", true)
	if news.Title != "News" {
		t.Errorf("new page: %+v", news)
	}
	home = visit(t, ctx, "home-v2", origin+"/", true)
	if home.Title != "Haulout demo site" || home.LogoWidth != 96 {
		t.Errorf("home page after the update: %+v", home)
	}
	visit(t, ctx, "removed-404", origin+"/images/wave.svg", false, "/images/wave.svg")

	// Path mode, and `site info`.
	resp, err = http.Get("http://" + d.agg + "/sites/" + v1.SiteID + "/news.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("X-Demo-Page") != "yes" {
		t.Errorf("path mode: %d %v", resp.StatusCode, resp.Header)
	}
	// A deploy of the same directory, in text: nothing to store.
	out, err := exec.Command(bin, "site", "deploy", siteDir, "--site-id", v1.Base36, "--publisher", "http://"+d.pub,
		"--aggregator", "http://"+d.agg, "--ledger", ledger).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "site "+v1.SiteID+" unchanged") || !strings.Contains(string(out), "0 uploaded, 8 unchanged, 0 removed") ||
		!strings.Contains(string(out), origin+"/") {
		t.Errorf("unchanged redeploy: %v\n%s", err, out)
	}
	info, err := exec.Command(bin, "site", "info", v1.Base36, "--aggregator", "http://"+d.agg, "--ledger", ledger).CombinedOutput()
	if err != nil || !strings.Contains(string(info), "/news.html") || strings.Contains(string(info), "/images/wave.svg") {
		t.Errorf("site info: %v\n%s", err, info)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
