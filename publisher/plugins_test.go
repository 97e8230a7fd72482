package publisher

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/wasm/plugin"
)

// buildPlugin builds one of the module's plugins for WASI and loads it.
func buildPlugin(t *testing.T, pkg string) *plugin.Plugin {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plugin.Load(context.Background(), wasm, plugin.Options{Name: filepath.Base(pkg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// TestUploadPlugin: with the gzip plugin configured, an upload is stored
// compressed, its Blob object carries the plugin's attribute, and a
// plugin refusing its arguments fails the upload with a clear 400 and no
// job or spool file left.
func TestUploadPlugin(t *testing.T) {
	gz := buildPlugin(t, "github.com/haulout/haulout/wasm/plugins/gzip")
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	cfg := testConfig(t, tn, st, spool)
	cfg.Plugins = []UploadPlugin{{Plugin: gz, Args: map[string]string{"level": "9"}}}
	tp := startPublisher(t, cfg)
	ctx := context.Background()

	blob := bytes.Repeat([]byte("haulout compresses well. "), 20000)
	code, body, hdr := put(t, tp.url, "/v1/blobs?epochs=2", bytes.NewReader(blob), nil)
	if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil {
		t.Fatalf("PUT: %d %s", code, body)
	}
	bo := decodeResult(t, body).NewlyCreated.BlobObject
	if bo.Size >= uint64(len(blob))/10 {
		t.Errorf("stored %d bytes of a %d-byte blob: not compressed", bo.Size, len(blob))
	}
	id, _ := codec.ParseBlobID(bo.BlobID)
	stored, err := tn.readBlob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("stored blob does not gunzip to the upload: %v", err)
	}
	j := waitJob(t, st, hdr.Get(jobHeader), 30*time.Second, "done", func(j jobs.Job) bool { return j.State.Terminal() })
	oid, err := chain.ParseObjectID(j.Registration.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := tn.ledger.Blob(ctx, oid)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Attributes["gzip.level"] != "9" {
		t.Errorf("Blob object attributes %v, want gzip.level=9", obj.Attributes)
	}
	noJobLeft(t, st, spool)

	// A plugin that refuses its arguments: 400, nothing left behind.
	tp.stop()
	cfg.Plugins[0].Args = map[string]string{"level": "42"}
	tp = startPublisher(t, cfg)
	code, body, _ = put(t, tp.url, "/v1/blobs", bytes.NewReader(blob), nil)
	checkError(t, code, body, http.StatusBadRequest, reasonPluginFailed, "daemon.walrus.space")
	noJobLeft(t, st, spool)
}
