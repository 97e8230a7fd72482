package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/testnet"
)

// buildPlugin builds one of wasm/plugins for WASI into dir.
func buildPlugin(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name+".wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/haulout/haulout/wasm/plugins/"+name)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("build plugin %s: %v\n%s", name, err, b)
	}
	return out
}

// TestStoreReadPlugin stores through the aesgcm and gzip plugins and reads
// back through them: the stored bytes are the transformed ones, the Blob
// object carries the plugin's attributes, and only the right plugin (with
// the right key) gives the file back.
func TestStoreReadPlugin(t *testing.T) {
	clearHauloutEnv(t)
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	var aes, gz string
	var wg sync.WaitGroup
	wg.Go(func() { aes = buildPlugin(t, dir, "aesgcm") })
	wg.Go(func() { gz = buildPlugin(t, dir, "gzip") })
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	tn := testnet.Start(t, 2, 2, 3)
	t.Setenv("HAULOUT_PUBLISHER", tn.PublisherURL)
	t.Setenv("HAULOUT_AGGREGATOR", tn.AggregatorURL)
	t.Setenv("HAULOUT_LEDGER", tn.LedgerURL)
	data := bytes.Repeat([]byte("secret plugin text "), 3000)
	file := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	const wrongKey = "key=ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

	storeID := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, "", append([]string{"store", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("store %v: exit %d: %s", args, code, errOut)
		}
		i := strings.Index(out, `"blobId":"`)
		if i < 0 {
			t.Fatalf("store %v: %s", args, out)
		}
		return out[i+10 : i+10+43]
	}
	plainID, _ := codec.ComputeBlobID(data, 7)

	for _, tc := range []struct {
		plugin, arg, wrongArg, attr string
	}{
		{aes, key, wrongKey, "aesgcm"},
		{gz, "level=9", "", "gzip"},
	} {
		t.Run(tc.attr, func(t *testing.T) {
			id := storeID("--plugin", tc.plugin, "--plugin-arg", tc.arg, file)
			if id == plainID.String() {
				t.Fatal("the plugin stored the file unchanged")
			}
			raw, _, code := runCLI(t, "", "read", id)
			if code != 0 || bytes.Equal([]byte(raw), data) {
				t.Fatalf("raw read: exit %d, %d bytes (the plain text?)", code, len(raw))
			}
			args := []string{"read", id, "--plugin", tc.plugin}
			if tc.attr == "aesgcm" {
				args = append(args, "--plugin-arg", tc.arg)
			}
			out, errOut, code := runCLI(t, "", args...)
			if code != 0 || out != string(data) {
				t.Fatalf("read --plugin: exit %d, %d bytes, want %d: %s", code, len(out), len(data), errOut)
			}
			status, _, _ := runCLI(t, "", "list-blobs", "--json")
			if !strings.Contains(status, id) {
				t.Fatalf("list-blobs misses %s", id)
			}
			if tc.wrongArg != "" {
				_, errOut, code := runCLI(t, "", "read", id, "--plugin", tc.plugin, "--plugin-arg", tc.wrongArg)
				if code != exitFailure || !strings.Contains(errOut, "aesgcm") {
					t.Fatalf("read with the wrong key: exit %d, %s", code, errOut)
				}
			}
			other := aes
			if tc.plugin == aes {
				other = gz
			}
			_, errOut, code = runCLI(t, "", "read", id, "--plugin", other)
			if code != exitFailure || !strings.Contains(errOut, "was stored through plugin") {
				t.Fatalf("read through another plugin: exit %d, %s", code, errOut)
			}
		})
	}
	// A blob stored without a plugin is refused by read --plugin.
	id := storeID(file)
	if _, errOut, code := runCLI(t, "", "read", id, "--plugin", gz); code != exitFailure || !strings.Contains(errOut, "carries no plugin attribute") {
		t.Fatalf("read --plugin of a plain blob: exit %d, %s", code, errOut)
	}
}
