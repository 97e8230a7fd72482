package aggregator

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/publisher"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/site"
)

// newTestPublisher serves a real publisher (embedded job store) for the
// net until the test ends, and returns its URL.
func (tn *testNet) newTestPublisher() string {
	t := tn.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := jobs.Open(ctx, jobs.Config{Path: filepath.Join(t.TempDir(), "jobs.db")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := publisher.New(publisher.Config{Ledger: tn.ledger, Jobs: store, SpoolDir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		store.Close()
	})
	return "http://" + ln.Addr().String()
}

// TestSiteDeploy deploys a directory through a real publisher, updates it
// in place, and reads it through the aggregator.
func TestSiteDeploy(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	agg := tn.newAggregator(nil)
	pub := tn.newTestPublisher()
	d := &site.Deployer{
		Network: &site.HTTPNetwork{Publisher: &client.Publisher{URL: pub}, Aggregator: &client.Aggregator{URL: agg.url}},
		Ledger:  tn.ledger,
		Logger:  testLogger(t),
	}
	dir := t.TempDir()
	write := func(p, s string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", "<p>home</p>")
	write("about.html", "<p>about v1</p>")
	write("css/site.css", "p { color: red }")
	write("404.html", "<p>not here</p>")
	write(site.WSResourcesFile, `{"routes": {"/app/*": "/index.html"}, "redirects": {"/old": {"location": "/about.html", "status_code": 302}}}`)
	ctx := context.Background()

	v1, err := d.Deploy(ctx, site.DeployOptions{Dir: dir, Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !v1.Created || len(v1.Uploaded) != 4 || len(v1.Quilts) != 1 {
		t.Fatalf("first deploy: %+v", v1)
	}
	sc := siteClient{t: t, base: agg.url, host: v1.Base36 + ".localhost"}
	sc.expect("/", 200, []byte("<p>home</p>"), "Content-Type", "text/html; charset=utf-8")
	sc.expect("/css/site.css", 200, []byte("p { color: red }"), "Content-Type", "text/css; charset=utf-8")
	sc.expect("/app/x", 200, []byte("<p>home</p>"))
	sc.expect("/old", 302, nil, "Location", "/about.html")
	sc.expect("/nope", 404, []byte("<p>not here</p>"))
	etag := sc.expect("/", 200, nil).Header.Get("ETag")

	// Every blob of the site lasts the epochs asked for.
	sys, err := tn.ledger.SystemInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := tn.ledger.Blob(ctx, v1.SiteID)
	if err != nil || rec.EndEpoch < sys.Epoch+3 {
		t.Fatalf("site object %+v, %v", rec, err)
	}

	// An update: one page changed, one added, one removed.
	write("about.html", "<p>about v2</p>")
	write("news.html", "<p>news</p>")
	if err := os.Remove(filepath.Join(dir, "css", "site.css")); err != nil {
		t.Fatal(err)
	}
	v2, err := d.Deploy(ctx, site.DeployOptions{Dir: dir, Epochs: 5, SiteID: &v1.SiteID})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(v2.Uploaded)
	if v2.SiteID != v1.SiteID || v2.Created || !v2.ManifestChanged || !slices.Equal(v2.Uploaded, []string{"/about.html", "/news.html"}) ||
		!slices.Equal(v2.Removed, []string{"/css/site.css"}) || len(v2.Unchanged) != 2 || len(v2.Quilts) != 2 {
		t.Fatalf("update: %+v", v2)
	}
	sc.expect("/about.html", 200, []byte("<p>about v2</p>"))
	sc.expect("/news.html", 200, []byte("<p>news</p>"))
	sc.expect("/", 200, []byte("<p>home</p>"), "ETag", etag)
	sc.expect("/css/site.css", 404, []byte("<p>not here</p>"))
	// The kept quilt was extended with the new manifest.
	for _, q := range v2.Quilts {
		objs, err := tn.ledger.BlobObjects(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(objs, func(o chain.BlobRecord) bool { return o.EndEpoch >= sys.Epoch+5 }) {
			t.Errorf("quilt %s not extended to epoch %d: %+v", q, sys.Epoch+5, objs)
		}
	}

	// Deploying the same directory again stores nothing.
	v3, err := d.Deploy(ctx, site.DeployOptions{Dir: dir, Epochs: 5, SiteID: &v1.SiteID})
	if err != nil {
		t.Fatal(err)
	}
	if v3.ManifestChanged || len(v3.Uploaded) != 0 || v3.ManifestID != v2.ManifestID {
		t.Fatalf("unchanged redeploy: %+v", v3)
	}
	// ws-resources.json's object_id (here in base36) names the site to
	// update when no site ID is given.
	write("news.html", "<p>news v2</p>")
	write(site.WSResourcesFile, `{"object_id": "`+v1.Base36+`", "routes": {"/app/*": "/index.html"}}`)
	v4, err := d.Deploy(ctx, site.DeployOptions{Dir: dir, Epochs: 5})
	if err != nil {
		t.Fatal(err)
	}
	if v4.SiteID != v1.SiteID || v4.Created || !slices.Equal(v4.Uploaded, []string{"/news.html"}) {
		t.Fatalf("deploy by object_id: %+v", v4)
	}
	sc.expect("/news.html", 200, []byte("<p>news v2</p>"))
	sc.expect("/old", 404, []byte("<p>not here</p>")) // the redirect is gone

	// A site ID that is no site is refused.
	notSite := tn.store([]byte("plain blob"), 5, false)
	if _, err := d.Deploy(ctx, site.DeployOptions{Dir: dir, Epochs: 1, SiteID: &notSite.rec.ObjectID}); err == nil {
		t.Fatal("deployed over a blob that is not a site")
	}
}
