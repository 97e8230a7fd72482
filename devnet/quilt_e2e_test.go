package devnet

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuiltEndToEnd runs the quilt commands of the real binary against a
// devnet of separate processes: store-quilt through the publisher,
// list-patches-in-quilt and read-quilt through the aggregator, a ranged
// patch read over HTTP, and patch reads again once a node is killed.
func TestQuiltEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the whole network")
	}
	bin := buildHaulout(t)
	d := startDevnet(t, bin, filepath.Join(t.TempDir(), "devnet"))
	defer d.stop(t)

	rng := rand.New(rand.NewPCG(9, 9))
	big := randomBytes(rng, 300_000)
	files := map[string][]byte{"index.html": []byte("<p>hello</p>"), "big.bin": big, "notes.txt": []byte("notes\n")}
	src := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	haulout := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("haulout %s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), d.out)
		}
		return out
	}
	pub, agg := "http://"+d.pub, "http://"+d.agg

	out := haulout("store-quilt", "--publisher", pub, "--epochs", "3", "--json", "--paths", src)
	var stored struct {
		BlobStoreResult struct {
			NewlyCreated struct {
				BlobObject struct {
					BlobID string `json:"blobId"`
				} `json:"blobObject"`
			} `json:"newlyCreated"`
		} `json:"blobStoreResult"`
		StoredQuiltBlobs []struct {
			Identifier   string `json:"identifier"`
			QuiltPatchID string `json:"quiltPatchId"`
		} `json:"storedQuiltBlobs"`
	}
	if err := json.Unmarshal(out, &stored); err != nil || len(stored.StoredQuiltBlobs) != 3 {
		t.Fatalf("store-quilt: %v %s", err, out)
	}
	quilt := stored.BlobStoreResult.NewlyCreated.BlobObject.BlobID

	out = haulout("list-patches-in-quilt", "--aggregator", agg, quilt)
	for name := range files {
		if !bytes.Contains(out, []byte(name)) {
			t.Errorf("list-patches-in-quilt lacks %s:\n%s", name, out)
		}
	}

	dir := t.TempDir()
	haulout("read-quilt", "--aggregator", agg, "--quilt-id", quilt, "--out", dir)
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read-quilt %s: %v, %d bytes, want %d", name, err, len(got), len(data))
		}
	}

	req, _ := http.NewRequest(http.MethodGet, agg+"/v1/blobs/by-quilt-id/"+quilt+"/big.bin", nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, big[1000:2000]) || resp.Header.Get("X-Quilt-Patch-Identifier") != "big.bin" {
		t.Fatalf("ranged patch read: %d, %d bytes, %v", resp.StatusCode, len(body), resp.Header)
	}

	// One node of four (10 of 40 shards) killed: a new quilt still stores,
	// and each of its patches reads (the aggregator has none of them
	// cached), columns on the dead node recovered from the others.
	d.killNode(t, 0)
	src2 := t.TempDir()
	files2 := map[string][]byte{}
	for i := range 8 {
		name := "part-" + string(rune('a'+i))
		files2[name] = big[i*30_000 : (i+1)*30_000]
		if err := os.WriteFile(filepath.Join(src2, name), files2[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out = haulout("store-quilt", "--publisher", pub, "--epochs", "3", "--json", "--paths", src2)
	if err := json.Unmarshal(out, &stored); err != nil || len(stored.StoredQuiltBlobs) != len(files2) {
		t.Fatalf("store-quilt with a node down: %v %s", err, out)
	}
	for _, p := range stored.StoredQuiltBlobs {
		got := haulout("read-quilt", "--aggregator", agg, "--quilt-patch-ids", p.QuiltPatchID)
		if !bytes.Equal(got, files2[p.Identifier]) {
			t.Errorf("with a node down, %s: %d bytes, want %d", p.Identifier, len(got), len(files2[p.Identifier]))
		}
	}
}
