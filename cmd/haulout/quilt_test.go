package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/aggregator"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/storagenode"
)

// TestQuiltCommandLines covers what the quilt commands refuse before
// talking to any service.
func TestQuiltCommandLines(t *testing.T) {
	down := "http://127.0.0.1:1" // nothing listens there
	id := "vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ"
	runGolden(t, "store-quilt", []cliCase{
		{name: "no-files", args: []string{"store-quilt"}},
		{name: "paths-and-blobs", args: []string{"store-quilt", "--paths", "inputs/hello.txt", "--blobs", `{"path":"inputs/hello.txt"}`}},
		{name: "permanent-deletable", args: []string{"store-quilt", "--permanent", "--deletable", "--paths", "inputs/hello.txt"}},
		{name: "bad-blobs-json", args: []string{"store-quilt", "--blobs", `{"path":"inputs/hello.txt","tag":{}}`}},
		{name: "blobs-no-path", args: []string{"store-quilt", "--blobs", `{"identifier":"x"}`}},
		{name: "missing-file", args: []string{"store-quilt", "--paths", "inputs/missing.txt"}},
		{name: "duplicate-names", args: []string{"store-quilt", "--paths", "inputs/quilt"}},
		{name: "invalid-identifier", args: []string{"store-quilt", "--blobs", `{"path":"inputs/hello.txt","identifier":"trailing "}`}},
		{name: "bad-epochs", args: []string{"store-quilt", "--epochs", "0", "--paths", "inputs/hello.txt"}},
		{name: "epochs-and-end-epoch", args: []string{"store-quilt", "--epochs", "2", "--end-epoch", "9", "--paths", "inputs/hello.txt"}},
		{name: "end-epoch-and-expiry", args: []string{"store-quilt", "--end-epoch", "9", "--earliest-expiry-time", "2030-01-01T00:00:00Z", "--paths", "inputs/hello.txt"}},
		{name: "bad-expiry", args: []string{"store-quilt", "--earliest-expiry-time", "tomorrow", "--paths", "inputs/hello.txt"}},
		{name: "settings-conflict", args: []string{"store-quilt", "--paths", "inputs/hello.txt"}, env: map[string]string{"HAULOUT_EPOCHS": "3", "HAULOUT_END_EPOCH": "9"}},
		{name: "end-epoch-ledger-down", args: []string{"store-quilt", "--ledger", down, "--publisher", down, "--end-epoch", "9", "--paths", "inputs/hello.txt"}},
		{name: "publisher-down", args: []string{"store-quilt", "--publisher", down, "--paths", "inputs/hello.txt"}},
		{name: "help-flag", args: []string{"store-quilt", "--help"}},
	})
	runGolden(t, "read-quilt", []cliCase{
		{name: "nothing", args: []string{"read-quilt"}},
		{name: "patch-ids-and-quilt-id", args: []string{"read-quilt", "--quilt-id", id, "--quilt-patch-ids", "x"}},
		{name: "identifiers-and-tag", args: []string{"read-quilt", "--quilt-id", id, "--identifiers", "a", "--tag", "k", "v"}},
		{name: "tag-without-value", args: []string{"read-quilt", "--quilt-id", id, "--tag", "k"}},
		{name: "stray-argument", args: []string{"read-quilt", "--quilt-id", id, "x"}},
		{name: "bad-quilt-id", args: []string{"read-quilt", "--quilt-id", "nope", "--identifiers", "a"}},
		{name: "bad-patch-id", args: []string{"read-quilt", "--quilt-patch-ids", "nope"}},
		{name: "aggregator-down", args: []string{"read-quilt", "--aggregator", down, "--quilt-id", id}},
		{name: "help-flag", args: []string{"read-quilt", "--help"}},
	})
	runGolden(t, "list-patches-in-quilt", []cliCase{
		{name: "no-id", args: []string{"list-patches-in-quilt"}},
		{name: "two-ids", args: []string{"list-patches-in-quilt", id, id}},
		{name: "bad-id", args: []string{"list-patches-in-quilt", "nope"}},
		{name: "aggregator-down", args: []string{"list-patches-in-quilt", "--aggregator", down, id}},
		{name: "help-flag", args: []string{"list-patches-in-quilt", "--help"}},
	})
}

// quiltNet is a whole network in this process: a ledger over HTTP,
// storage nodes, a publisher and an aggregator, all real, on loopback.
type quiltNet struct {
	publisher, aggregator, ledger string
}

func startQuiltNet(t *testing.T, shardsPerNode ...int) *quiltNet {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	serve := func(ln net.Listener, serve func(context.Context, net.Listener) error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve(ctx, ln) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve %s: %v", ln.Addr(), err)
			}
		})
	}
	var regs []chain.NodeRegistration
	var lns []net.Listener
	next := 0
	for i, count := range shardsPerNode {
		ln := listen()
		lns = append(lns, ln)
		info := chain.NodeInfo{ID: chaintest.NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: "http://" + ln.Addr().String()}
		for range count {
			info.Shards = append(info.Shards, uint16(next))
			next++
		}
		regs = append(regs, chain.NewNodeRegistration(chaintest.NodeKey(i), info, 0))
	}
	led, err := local.Open(ctx, local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: regs, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	ledgerSrv := httptest.NewServer((&ledgerhttp.Server{Ledger: led, Logger: log}).Handler())
	t.Cleanup(ledgerSrv.Close)
	for i, ln := range lns {
		node, err := storagenode.New(ctx, storagenode.Config{Dir: t.TempDir(), Ledger: led, NodeID: chaintest.NodeID(i),
			Key: chaintest.NodeKey(i), PeerClient: hc, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		serve(ln, node.Serve)
	}
	store, err := jobs.Open(ctx, jobs.Config{Path: filepath.Join(t.TempDir(), "jobs.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub, err := publisher.New(publisher.Config{Ledger: led, Jobs: store, SpoolDir: t.TempDir(), Logger: log, NodeHTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	pln := listen()
	serve(pln, pub.Serve)
	agg, err := aggregator.New(aggregator.Config{Ledger: led, NodeHTTPClient: hc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agg.Close() })
	aln := listen()
	serve(aln, agg.Serve)
	return &quiltNet{publisher: "http://" + pln.Addr().String(), aggregator: "http://" + aln.Addr().String(), ledger: ledgerSrv.URL}
}

// haulout runs the command in-process and returns its output; it fails
// the test on a non-zero exit unless wantCode says otherwise.
func haulout(t *testing.T, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(""), &out, &errb); code != wantCode {
		t.Fatalf("haulout %s: exit %d, want %d; stderr: %s", strings.Join(args, " "), code, wantCode, errb.String())
	}
	return out.String(), errb.String()
}

// TestQuiltCommands stores a quilt with store-quilt and reads it back with
// list-patches-in-quilt and read-quilt, each way they select patches.
func TestQuiltCommands(t *testing.T) {
	clearHauloutEnv(t)
	nw := startQuiltNet(t, 3, 3, 4)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("site/index.html", "<p>home</p>")
	write("site/css/style.css", "p{}")
	paper := write("paper.pdf", strings.Repeat("pdf ", 5000))

	// --paths: a directory (recursively) and a file; Walrus's multi-value
	// syntax (--paths a b).
	stdout, _ := haulout(t, 0, "store-quilt", "--publisher", nw.publisher, "--epochs", "2", "--json",
		"--paths", filepath.Join(dir, "site"), paper)
	var stored struct {
		BlobStoreResult struct {
			NewlyCreated struct {
				BlobObject struct {
					BlobID string `json:"blobId"`
				} `json:"blobObject"`
			} `json:"newlyCreated"`
		} `json:"blobStoreResult"`
		StoredQuiltBlobs []struct {
			Identifier   string    `json:"identifier"`
			QuiltPatchID string    `json:"quiltPatchId"`
			Range        [2]uint16 `json:"range"`
		} `json:"storedQuiltBlobs"`
	}
	if err := json.Unmarshal([]byte(stdout), &stored); err != nil {
		t.Fatalf("store-quilt --json: %v: %s", err, stdout)
	}
	quilt := stored.BlobStoreResult.NewlyCreated.BlobObject.BlobID
	if quilt == "" || len(stored.StoredQuiltBlobs) != 3 || stored.StoredQuiltBlobs[0].Identifier != "index.html" {
		t.Fatalf("store-quilt: %s", stdout)
	}

	// --blobs with identifiers and tags; text output.
	stdout, _ = haulout(t, 0, "store-quilt", "--publisher", nw.publisher,
		"--blobs", `{"path":"`+paper+`","identifier":"paper-v2","tags":{"status":"final","author":"w"}}`,
		`{"path":"`+filepath.Join(dir, "site/index.html")+`","tags":{"status":"draft"}}`,
		`{"path":"`+filepath.Join(dir, "site/css/style.css")+`","identifier":"css/style.css","tags":{"status":"final"}}`)
	fields := strings.Fields(stdout)
	if len(fields) < 3 || fields[0] != "Stored" || fields[1] != "quilt" || !strings.Contains(stdout, "paper-v2") || !strings.Contains(stdout, "SLIVER RANGE") {
		t.Fatalf("store-quilt text: %s", stdout)
	}
	tagged := fields[2]

	// The list, as a table and as JSON.
	stdout, _ = haulout(t, 0, "list-patches-in-quilt", "--aggregator", nw.aggregator, tagged)
	for _, want := range []string{"3 patches", "css/style.css", "index.html", "paper-v2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q: %s", want, stdout)
		}
	}
	stdout, _ = haulout(t, 0, "list-patches-in-quilt", "--aggregator", nw.aggregator, "--json", tagged)
	var list struct {
		QuiltID string `json:"quiltId"`
		Patches []struct {
			Identifier   string            `json:"identifier"`
			QuiltPatchID string            `json:"quiltPatchId"`
			Tags         map[string]string `json:"tags"`
		} `json:"patches"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || list.QuiltID != tagged || len(list.Patches) != 3 || list.Patches[2].Tags["author"] != "w" {
		t.Fatalf("list --json: %v %s", err, stdout)
	}

	// read-quilt --identifiers a b --out DIR (an identifier with a / makes
	// a subdirectory).
	out := filepath.Join(dir, "out1")
	stdout, _ = haulout(t, 0, "read-quilt", "--aggregator", nw.aggregator, "--quilt-id", tagged, "--identifiers", "paper-v2", "css/style.css", "--out", out)
	if !strings.Contains(stdout, "Retrieved 2 patches") || !strings.Contains(stdout, "status: final") {
		t.Errorf("read-quilt: %s", stdout)
	}
	wantFile(t, filepath.Join(out, "paper-v2"), strings.Repeat("pdf ", 5000))
	wantFile(t, filepath.Join(out, "css", "style.css"), "p{}")

	// --tag KEY VALUE.
	out = filepath.Join(dir, "out2")
	haulout(t, 0, "read-quilt", "--aggregator", nw.aggregator, "--quilt-id", tagged, "--tag", "status", "final", "--out", out)
	wantFile(t, filepath.Join(out, "paper-v2"), strings.Repeat("pdf ", 5000))
	wantFile(t, filepath.Join(out, "css", "style.css"), "p{}")
	if _, err := os.Stat(filepath.Join(out, "index.html")); err == nil {
		t.Error("--tag status final read the draft")
	}

	// Every patch, as JSON with the bytes.
	stdout, _ = haulout(t, 0, "read-quilt", "--aggregator", nw.aggregator, "--quilt-id", quilt, "--json")
	var got struct {
		RetrievedBlobs []struct {
			Identifier string `json:"identifier"`
			Blob       string `json:"blob"`
		} `json:"retrievedBlobs"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got.RetrievedBlobs) != 3 {
		t.Fatalf("read-quilt --json: %v %s", err, stdout)
	}
	// Quilt order: by identifier.
	for i, want := range []struct{ id, data string }{{"index.html", "<p>home</p>"}, {"paper.pdf", strings.Repeat("pdf ", 5000)}, {"style.css", "p{}"}} {
		rb := got.RetrievedBlobs[i]
		if b, _ := base64.StdEncoding.DecodeString(rb.Blob); rb.Identifier != want.id || string(b) != want.data {
			t.Errorf("read-quilt --json: patch %d is %q (%d bytes), want %q", i, rb.Identifier, len(b), want.id)
		}
	}

	// By patch IDs, to standard output, in the order given.
	stdout, _ = haulout(t, 0, "read-quilt", "--aggregator", nw.aggregator, "--quilt-patch-ids",
		stored.StoredQuiltBlobs[2].QuiltPatchID, stored.StoredQuiltBlobs[0].QuiltPatchID)
	if stdout != "p{}<p>home</p>" {
		t.Errorf("read-quilt --quilt-patch-ids: %.100q", stdout)
	}

	// Errors from the services.
	_, stderr := haulout(t, 1, "read-quilt", "--aggregator", nw.aggregator, "--quilt-id", tagged, "--identifiers", "missing")
	if !strings.Contains(stderr, `no patch "missing"`) {
		t.Errorf("missing identifier: %s", stderr)
	}
	_, stderr = haulout(t, 1, "list-patches-in-quilt", "--aggregator", nw.aggregator, "vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ")
	if !strings.Contains(stderr, "404 BLOB_NOT_FOUND") {
		t.Errorf("unknown quilt: %s", stderr)
	}
	_, stderr = haulout(t, 1, "store-quilt", "--publisher", nw.publisher, "--epochs", "100000", "--paths", paper)
	if !strings.Contains(stderr, "400") {
		t.Errorf("too many epochs: %s", stderr)
	}

	// --end-epoch: turned into epochs from the ledger's, stored until
	// exactly that epoch.
	info, err := newLedger(nw.ledger).Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	notes := write("notes.txt", "until an epoch")
	stdout, _ = haulout(t, 0, "store-quilt", "--publisher", nw.publisher, "--ledger", nw.ledger, "--json",
		"--end-epoch", fmt.Sprint(info.Epoch+3), "--paths", notes)
	var until struct {
		BlobStoreResult struct {
			NewlyCreated *struct {
				BlobObject struct {
					Storage struct {
						EndEpoch chain.Epoch `json:"endEpoch"`
					} `json:"storage"`
				} `json:"blobObject"`
			} `json:"newlyCreated"`
		} `json:"blobStoreResult"`
	}
	if err := json.Unmarshal([]byte(stdout), &until); err != nil || until.BlobStoreResult.NewlyCreated == nil ||
		until.BlobStoreResult.NewlyCreated.BlobObject.Storage.EndEpoch != info.Epoch+3 {
		t.Fatalf("store-quilt --end-epoch %d: %v %s", info.Epoch+3, err, stdout)
	}
	// Refusals that need the ledger's state; nothing reaches the publisher.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--end-epoch", fmt.Sprint(info.Epoch)}, fmt.Sprintf("--end-epoch %d is not after the current epoch %d", info.Epoch, info.Epoch)},
		{[]string{"--end-epoch", fmt.Sprint(uint32(info.Epoch) + info.MaxEpochsAhead + 1)}, "epochs ahead"},
		{[]string{"--earliest-expiry-time", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "no set duration"},
	} {
		args := append([]string{"store-quilt", "--publisher", "http://127.0.0.1:1", "--ledger", nw.ledger}, tc.args...)
		stdout, stderr := haulout(t, 1, append(args, "--paths", notes)...)
		if stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("store-quilt %v: stdout %q, stderr %q; want %q", tc.args, stdout, stderr, tc.want)
		}
	}
}

func wantFile(t *testing.T, path, want string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if string(b) != want {
		t.Errorf("%s: %q, want %q", path, b, want)
	}
}
