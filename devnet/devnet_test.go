package devnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end test runs the real binary: a devnet of separate processes,
// stores and reads over HTTP, kills a node, restarts the whole devnet.

func buildHaulout(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "haulout")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/haulout/haulout/cmd/haulout")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build haulout: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// servicePorts returns a picker of ports for the publisher, aggregator and
// ledger of the devnet in dir: each distinct, and none that dir's
// devnet.json already gives a node (free while the devnet is stopped, so the
// system may hand one out for a restart). A new devnet avoids the picked
// ones itself.
func servicePorts(t *testing.T, dir string) func() string {
	t.Helper()
	used := map[string]bool{}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		st, err := LoadOrCreate(dir, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range allAddrs(st) {
			used[a] = true
		}
	}
	return func() string {
		for {
			if p := freePort(t); !used[p] {
				used[p] = true
				return p
			}
		}
	}
}

// randomBytes returns n bytes from rng: test blobs that are the same from
// run to run and do not compress.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// syncBuffer is a buffer that the child's output goroutine writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type devnetProc struct {
	cmd      *exec.Cmd
	out      *syncBuffer
	pub, agg string
	ledger   string // the ledger's address
	dir      string
	stopped  chan error
}

func startDevnet(t *testing.T, bin, dir string) *devnetProc {
	t.Helper()
	return startDevnetArgs(t, bin, dir, "--nodes", "4", "--shards", "40")
}

// startDevnetArgs starts `haulout devnet` on dir with more arguments (the
// shape of a new devnet, the epoch duration) and waits until it runs.
func startDevnetArgs(t *testing.T, bin, dir string, extra ...string) *devnetProc {
	t.Helper()
	port := servicePorts(t, dir)
	d := &devnetProc{out: &syncBuffer{}, pub: port(), agg: port(), ledger: port(), dir: dir, stopped: make(chan error, 1)}
	args := append([]string{"devnet", "--dir", dir, "--publisher-addr", d.pub, "--aggregator-addr", d.agg,
		"--ledger-addr", d.ledger}, extra...)
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.stopped <- d.cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(d.out.String(), "is running") {
		select {
		case err := <-d.stopped:
			t.Fatalf("devnet exited: %v\n%s%s", err, d.out, tails(filepath.Join(dir, "logs")))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.stop(t)
			t.Fatalf("devnet did not start\n%s", d.out)
		}
	}
	return d
}

func (d *devnetProc) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.stopped:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Fatalf("devnet did not stop on SIGINT\n%s", d.out)
	}
}

func (d *devnetProc) store(t *testing.T, data []byte) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://"+d.pub+"/v1/blobs?epochs=3", bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("store: %d %s", resp.StatusCode, body)
	}
	var out struct {
		NewlyCreated *struct {
			BlobObject struct {
				BlobID string `json:"blobId"`
			} `json:"blobObject"`
		} `json:"newlyCreated"`
		AlreadyCertified *struct {
			BlobID string `json:"blobId"`
		} `json:"alreadyCertified"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("store answer %s: %v", body, err)
	}
	if out.NewlyCreated != nil {
		return out.NewlyCreated.BlobObject.BlobID
	}
	return out.AlreadyCertified.BlobID
}

func (d *devnetProc) read(t *testing.T, id string, want []byte) {
	t.Helper()
	resp, err := http.Get("http://" + d.agg + "/v1/blobs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("read %s: status %d, %d bytes, want %d bytes", id, resp.StatusCode, len(got), len(want))
	}
}

func (d *devnetProc) killNode(t *testing.T, i int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.dir, "logs", fmt.Sprintf("node-%d.pid", i)))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

func TestDevnetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the whole network")
	}
	bin := buildHaulout(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	rng := rand.New(rand.NewPCG(1, 1))
	blob := func(n int) []byte { return randomBytes(rng, n) }

	d := startDevnet(t, bin, dir)
	a, b := blob(100_000), blob(1)
	idA, idB := d.store(t, a), d.store(t, b)
	d.read(t, idA, a)
	d.read(t, idB, b)
	if cid, err := exec.Command(bin, "blob-id", "--n-shards", "40", "-").Output(); err == nil {
		_ = cid // blob IDs depend on the input only; checked below with a file
	}

	// One of four nodes (10 of 40 shards, f = 13) down: reads and new
	// stores still work.
	d.killNode(t, 2)
	d.read(t, idA, a)
	c := blob(5000)
	idC := d.store(t, c)
	d.read(t, idC, c)
	d.stop(t)

	// A second start on the same directory finds every blob.
	d = startDevnet(t, bin, dir)
	defer d.stop(t)
	for id, want := range map[string][]byte{idA: a, idB: b, idC: c} {
		d.read(t, id, want)
	}

	// The blob ID the network gave equals haulout blob-id's.
	f := filepath.Join(t.TempDir(), "a.bin")
	if err := os.WriteFile(f, a, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), bin, "blob-id", "--n-shards", "40", f).Output()
	if err != nil || strings.TrimSpace(string(out)) != idA {
		t.Fatalf("blob-id %q, network %s (%v)", out, idA, err)
	}
}

// tails returns the end of every service log, for failure messages.
func tails(logDir string) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(logDir, "*.log"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}
