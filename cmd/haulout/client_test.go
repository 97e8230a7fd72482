package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/testnet"
)

// The client commands against a whole in-process network (the devnet
// tests run them as processes too). Outputs that carry fresh object IDs are
// checked field by field; fixed ones are goldens below.

// runCLI runs haulout in-process and returns stdout, stderr and the status.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestClientCommands(t *testing.T) {
	clearHauloutEnv(t)
	tn := testnet.Start(t, 3, 3, 4)
	t.Setenv("HAULOUT_PUBLISHER", tn.PublisherURL)
	t.Setenv("HAULOUT_AGGREGATOR", tn.AggregatorURL)
	t.Setenv("HAULOUT_LEDGER", tn.LedgerURL)
	dir := t.TempDir()
	data := bytes.Repeat([]byte("haulout "), 5000)
	file := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	wantID, _ := codec.ComputeBlobID(data, 10)
	id := wantID.String()

	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, stdin, args...)
		if code != 0 {
			t.Fatalf("haulout %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	// store --json: Walrus's array of {blobStoreResult, path}.
	var stored []struct {
		BlobStoreResult struct {
			NewlyCreated *struct {
				BlobObject struct {
					ID      string `json:"id"`
					BlobID  string `json:"blobId"`
					Storage struct {
						EndEpoch int `json:"endEpoch"`
					} `json:"storage"`
				} `json:"blobObject"`
			} `json:"newlyCreated"`
		} `json:"blobStoreResult"`
		Path string `json:"path"`
	}
	if err := json.Unmarshal([]byte(mustRun("", "store", "--epochs", "3", "--json", file)), &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].Path != file || stored[0].BlobStoreResult.NewlyCreated == nil ||
		stored[0].BlobStoreResult.NewlyCreated.BlobObject.BlobID != id {
		t.Fatalf("store --json: %+v", stored)
	}
	obj := stored[0].BlobStoreResult.NewlyCreated.BlobObject.ID

	// The text form, from standard input, finds it stored.
	if out := mustRun(string(data), "store", "-"); !strings.Contains(out, "already stored") || !strings.Contains(out, id) {
		t.Fatalf("store - again:\n%s", out)
	}
	// --direct stores a new blob without the publisher.
	other := filepath.Join(dir, "other.bin")
	os.WriteFile(other, []byte("direct to the nodes"), 0o600)
	if out := mustRun("", "store", "--direct", other); !strings.Contains(out, "as a deletable blob") {
		t.Fatalf("store --direct:\n%s", out)
	}

	// read: to stdout, to a file, a range, JSON.
	if out := mustRun("", "read", id); out != string(data) {
		t.Fatalf("read: %d bytes, want %d", len(out), len(data))
	}
	outFile := filepath.Join(dir, "out.bin")
	mustRun("", "read", id, "-o", outFile)
	if got, err := os.ReadFile(outFile); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read -o: %d bytes, %v", len(got), err)
	}
	if out := mustRun("", "read", id, "--start", "8", "--length", "7"); out != "haulout" {
		t.Fatalf("read range: %q", out)
	}
	var rj struct {
		BlobID string `json:"blobId"`
		Blob   []byte `json:"blob"`
	}
	if err := json.Unmarshal([]byte(mustRun("", "read", "--json", id)), &rj); err != nil || rj.BlobID != id || !bytes.Equal(rj.Blob, data) {
		t.Fatalf("read --json: %v", err)
	}

	// blob-status, by ID and by file.
	if out := mustRun("", "blob-status", id); !strings.Contains(out, "1 deletable Blob object(s), 1 of them certified") {
		t.Fatalf("blob-status:\n%s", out)
	}
	if out := mustRun("", "status", "--file", file, "--json"); !strings.Contains(out, `"blobId":"`+id+`"`) || !strings.Contains(out, `"deletable"`) {
		t.Fatalf("status --file --json:\n%s", out)
	}

	// info and list-blobs.
	if out := mustRun("", "info"); !strings.Contains(out, "shards:            10") || !strings.Contains(out, "node-2") {
		t.Fatalf("info:\n%s", out)
	}
	if out := mustRun("", "info", "size", "--json"); !strings.HasPrefix(out, `{"sizeInfo":{"storageUnitSize":1048576,"maxBlobSize":`) {
		t.Fatalf("info size --json:\n%s", out)
	}
	if out := mustRun("", "list-blobs"); !strings.Contains(out, id) || !strings.Contains(out, obj) {
		t.Fatalf("list-blobs:\n%s", out)
	}

	// extend, then delete: the blob is gone for readers and the status.
	end := stored[0].BlobStoreResult.NewlyCreated.BlobObject.Storage.EndEpoch
	if out := mustRun("", "extend", "--blob-obj-id", obj, "--epochs-extended", "2"); !strings.Contains(out, fmt.Sprintf("stored until epoch %d ", end+2)) {
		t.Fatalf("extend:\n%s", out)
	}
	if out := mustRun("", "delete", "--blob-id", id, "--json"); !strings.Contains(out, `"noBlobsFound":false`) || !strings.Contains(out, obj) {
		t.Fatalf("delete:\n%s", out)
	}
	if out := mustRun("", "blob-status", "--blob-id", id); !strings.Contains(out, "not stored") {
		t.Fatalf("blob-status after delete:\n%s", out)
	}
	if out := mustRun("", "delete", "--blob-id", id); !strings.Contains(out, "nothing deleted") {
		t.Fatalf("delete again:\n%s", out)
	}

	// Failures: a clear message and exit status 1, nothing half written.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"read", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "-o", filepath.Join(dir, "never")}, "404 BLOB_NOT_FOUND"},
		{[]string{"store", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"store", dir}, "is a directory"},
		{[]string{"extend", "--blob-obj-id", "0x" + strings.Repeat("0", 64), "--epochs-extended", "1"}, "not found"},
		{[]string{"store", "--plugin", file, file}, "plugin"},
	} {
		out, errOut, code := runCLI(t, "", tc.args...)
		if code != exitFailure || !strings.Contains(errOut, tc.want) {
			t.Errorf("haulout %s: exit %d, stderr %q, want 1 and %q (stdout %q)", strings.Join(tc.args, " "), code, errOut, tc.want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); !os.IsNotExist(err) {
		t.Errorf("a failed read left its --out file: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".never.part-*")); len(left) > 0 {
		t.Errorf("a failed read left %v", left)
	}
}

// TestClientCommandErrors: command lines that are wrong, and services that
// are not there, in goldens.
func TestClientCommandErrors(t *testing.T) {
	down := map[string]string{"HAULOUT_PUBLISHER": "http://127.0.0.1:1", "HAULOUT_AGGREGATOR": "http://127.0.0.1:1", "HAULOUT_LEDGER": "http://127.0.0.1:1"}
	const id = "vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ"
	runGolden(t, "client", []cliCase{
		{name: "store-no-file", args: []string{"store"}},
		{name: "store-permanent-deletable", args: []string{"store", "--permanent", "--deletable", "x"}},
		{name: "store-bad-epochs", args: []string{"store", "--epochs", "0", "x"}},
		{name: "store-stdin-and-file", args: []string{"store", "-", "inputs/hello.txt"}},
		{name: "store-direct-share", args: []string{"store", "--direct", "--share", "inputs/hello.txt"}},
		{name: "store-plugin-arg-alone", args: []string{"store", "--plugin-arg", "a=b", "inputs/hello.txt"}},
		{name: "store-plugin-arg-bad", args: []string{"store", "--plugin-arg", "ab", "inputs/hello.txt"}},
		{name: "store-publisher-down", args: []string{"store", "inputs/hello.txt"}, env: down},
		{name: "store-publisher-down-json", args: []string{"store", "--json", "inputs/hello.txt"}, env: down},
		{name: "read-no-id", args: []string{"read"}},
		{name: "read-bad-id", args: []string{"read", "not-a-blob-id"}},
		{name: "read-start-without-length", args: []string{"read", id, "--start", "5"}},
		{name: "read-aggregator-down", args: []string{"read", id}, env: down},
		{name: "status-nothing", args: []string{"blob-status"}},
		{name: "status-two", args: []string{"blob-status", id, "--blob-id", id}},
		{name: "status-ledger-down", args: []string{"status", id}, env: down},
		{name: "delete-nothing", args: []string{"delete"}},
		{name: "delete-bad-object", args: []string{"delete", "--object-id", "0xZZ"}, env: down},
		{name: "extend-missing", args: []string{"extend", "--blob-obj-id", "0x12"}},
		{name: "info-bad-section", args: []string{"info", "prices"}},
		{name: "list-blobs-args", args: []string{"list-blobs", "x"}},
		{name: "help-store", args: []string{"help", "store"}},
		{name: "help-read", args: []string{"help", "read"}},
	})
}
