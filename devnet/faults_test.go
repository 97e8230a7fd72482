package devnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"syscall"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/storagenode/store"
)

// The fault tests run the real binary as a devnet of processes and use it
// the way people do: curl and the haulout CLI. They kill, restart and
// corrupt storage nodes, kill the publisher in the middle of a job, let
// epochs pass, and feed the services bad input.

// e2e is a running devnet and what the tests need to reach it.
type e2e struct {
	t      *testing.T
	bin    string
	d      *devnetProc
	st     *State
	info   *client.Info
	ledger string // URL
	rng    *rand.Rand
	// procs are services the test restarted itself; stopped at the end.
	procs map[string]*exec.Cmd
}

func newE2E(t *testing.T, bin, dir string, args ...string) *e2e {
	t.Helper()
	d := startDevnetArgs(t, bin, dir, args...)
	e := &e2e{t: t, bin: bin, d: d, rng: rand.New(rand.NewPCG(7, 7)), procs: map[string]*exec.Cmd{}}
	t.Cleanup(func() { e.stop() })
	st, err := LoadOrCreate(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.st, e.ledger = st, "http://"+d.ledger
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e.info, err = client.NewLedger(e.ledger, nil).Info(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// stop stops the services the test restarted, then the devnet.
func (e *e2e) stop() {
	for name, cmd := range e.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		delete(e.procs, name)
	}
	if e.d != nil {
		e.d.stop(e.t)
		e.d = nil
	}
}

func (e *e2e) blob(n int) []byte { return randomBytes(e.rng, n) }

func (e *e2e) file(data []byte) string {
	e.t.Helper()
	f, err := os.CreateTemp(e.t.TempDir(), "blob-*.bin")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		e.t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

// cli runs `haulout args...` against the devnet.
func (e *e2e) cli(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), "HAULOUT_PUBLISHER=http://"+e.d.pub, "HAULOUT_AGGREGATOR=http://"+e.d.agg, "HAULOUT_LEDGER="+e.ledger)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (e *e2e) mustCLI(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.cli(args...)
	if err != nil {
		e.t.Fatalf("haulout %s: %v\n%s%s\n%s", strings.Join(args, " "), err, out, errOut, tails(filepath.Join(e.d.dir, "logs")))
	}
	return out
}

// storeCLI stores a file with `haulout store --json` and returns its blob ID.
func (e *e2e) storeCLI(path string, args ...string) string {
	e.t.Helper()
	out := e.mustCLI(append(append([]string{"store", "--json"}, args...), path)...)
	var res []struct {
		BlobStoreResult client.StoreResult `json:"blobStoreResult"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		e.t.Fatalf("store --json: %v: %s", err, out)
	}
	return res[0].BlobStoreResult.BlobID().String()
}

// storeCurl stores a file with curl --upload-file (Go's client where curl
// is missing: the request is the same) and returns its blob ID.
func (e *e2e) storeCurl(path string) string {
	e.t.Helper()
	url := "http://" + e.d.pub + "/v1/blobs?epochs=20"
	var body []byte
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "--fail-with-body", "-X", "PUT", "--upload-file", path, url).Output()
		if err != nil {
			e.t.Fatalf("curl: %v: %s", err, out)
		}
		body = out
	} else {
		e.t.Log("curl is not installed: storing with Go's HTTP client")
		data, _ := os.ReadFile(path)
		req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	var res client.StoreResult
	if err := json.Unmarshal(body, &res); err != nil || (res.NewlyCreated == nil && res.AlreadyCertified == nil) {
		e.t.Fatalf("store answer %s: %v", body, err)
	}
	return res.BlobID().String()
}

// readBoth reads a blob through the aggregator's HTTP API and through
// `haulout read -o`, and checks both byte for byte.
func (e *e2e) readBoth(id string, want []byte) {
	e.t.Helper()
	e.d.read(e.t, id, want)
	out := filepath.Join(e.t.TempDir(), "read.bin")
	e.mustCLI("read", id, "-o", out)
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
		e.t.Fatalf("haulout read %s: %d bytes (%v), want %d", id, len(got), err, len(want))
	}
}

func (e *e2e) nodeIndex(id chain.ObjectID) int {
	for i, n := range e.st.Nodes {
		if n.ID == id {
			return i
		}
	}
	e.t.Fatalf("node %s is not in the devnet", id)
	return -1
}

// shards returns node i's shards in the current committee.
func (e *e2e) shards(i int) []uint16 {
	for _, n := range e.info.Nodes {
		if n.ID == e.st.Nodes[i].ID {
			return n.Shards
		}
	}
	return nil
}

func (e *e2e) pid(name string) int {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.d.dir, "logs", name+".pid"))
	if err != nil {
		e.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		e.t.Fatal(err)
	}
	return pid
}

// kill kills a service with SIGKILL: the devnet's child (by its pid file)
// or one the test restarted; it waits until the process is gone.
func (e *e2e) kill(name string) {
	e.t.Helper()
	if cmd, ok := e.procs[name]; ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		delete(e.procs, name)
		return
	}
	pid := e.pid(name)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s (pid %d) did not die", name, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restart starts a service again with args, logging beside the devnet's,
// and waits until ready answers 2xx.
func (e *e2e) restart(name, ready string, args []string) {
	e.t.Helper()
	logf, err := os.OpenFile(filepath.Join(e.d.dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(e.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.procs[name] = cmd
	e.waitHTTP(ready, 60*time.Second)
}

func (e *e2e) waitHTTP(url string, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s not ready after %s (%v)", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *e2e) restartNode(i int) {
	e.t.Helper()
	n := e.st.Nodes[i]
	e.restart(n.Name, n.URL()+"/v1/health", NodeArgs(e.d.dir, i, n, e.ledger))
}

// holds reports whether node i serves every sliver of blob id that its
// shards call for.
func (e *e2e) holds(i int, id codec.BlobID) (bool, error) {
	c, err := nodeclient.New(e.st.Nodes[i].URL())
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range e.shards(i) {
		pair := uint16(codec.PairForShard(id, int(s), e.st.Shards))
		for _, a := range []codec.Axis{codec.Primary, codec.Secondary} {
			st, err := c.SliverStatus(ctx, id, pair, a)
			if err != nil {
				return false, err
			}
			if st != nodeclient.Stored {
				return false, nil
			}
		}
	}
	return true, nil
}

// waitHolds waits until node i holds all its slivers of every blob.
func (e *e2e) waitHolds(i int, ids ...codec.BlobID) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for _, id := range ids {
		for {
			ok, err := e.holds(i, id)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				e.t.Fatalf("node %d did not recover its slivers of %s (last error %v)\n%s", i, id, err, tails(filepath.Join(e.d.dir, "logs")))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

func mustID(t *testing.T, s string) codec.BlobID {
	t.Helper()
	id, err := codec.ParseBlobID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// openStore opens node i's store; the node must be stopped.
func openStore(t *testing.T, dir string, i int) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(NodeDir(dir, i), "store"), store.Options{})
	if err != nil {
		t.Fatalf("open the store of node %d: %v", i, err)
	}
	return s
}

// slivers counts what node i's store holds of blob id.
func slivers(t *testing.T, s *store.Store, id codec.BlobID) int {
	t.Helper()
	ids, err := s.ListSlivers(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

// TestDevnetFaults: 7 nodes, 40 shards (f = 13 shards, about two nodes).
func TestDevnetFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the whole network")
	}
	bin := buildHaulout(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	e := newE2E(t, bin, dir, "--nodes", "7", "--shards", "40")
	f := chain.MaxFaulty(uint16(e.st.Shards))

	// Store with curl and the CLI; read through the aggregator and the CLI.
	a, b := e.blob(200_000), e.blob(1<<20)
	idA := e.storeCurl(e.file(a))
	idB := e.storeCLI(e.file(b), "--epochs", "20")
	e.readBoth(idA, a)

	// Kill nodes holding at most f shards between them: the two smallest.
	var down []int
	weight := 0
	for i := len(e.st.Nodes) - 1; i >= 0 && weight+len(e.shards(i)) <= f && len(down) < 2; i-- {
		down = append(down, i)
		weight += len(e.shards(i))
	}
	if len(down) != 2 {
		t.Fatalf("no two nodes hold at most f = %d shards: %v", f, e.info.Nodes)
	}
	for _, i := range down {
		e.kill(e.st.Nodes[i].Name)
	}
	t.Logf("killed nodes %v (%d of %d shards, f = %d)", down, weight, e.st.Shards, f)
	// B was never read before: the aggregator rebuilds it from the rest.
	e.readBoth(idB, b)
	// New blobs still certify, through the publisher and directly.
	c, dd := e.blob(300_000), e.blob(50_000)
	idC := e.storeCurl(e.file(c))
	idD := e.storeCLI(e.file(dd), "--direct", "--epochs", "20")
	e.readBoth(idC, c)
	e.readBoth(idD, dd)

	// Restarted, the nodes heal the slivers they missed.
	for _, i := range down {
		e.restartNode(i)
	}
	for _, i := range down {
		e.waitHolds(i, mustID(t, idC), mustID(t, idD))
	}

	t.Run("CorruptSlivers", func(t *testing.T) {
		// Three nodes' slivers (18 of 40 shards) of a blob that no reader
		// has asked for yet are flipped on disk. A read needs 14 valid
		// primary slivers, so it all but surely meets bad ones (any 14 of
		// the 40 avoid them with odds of 1e-5) and must skip them.
		g := e.blob(400_000)
		idG := e.storeCLI(e.file(g), "--epochs", "20")
		gid := mustID(t, idG)
		victims := []int{0, 1, 2}
		for _, i := range victims {
			e.waitHolds(i, gid)
			e.kill(e.st.Nodes[i].Name)
			s := openStore(t, dir, i)
			ids, err := s.ListSlivers(context.Background(), gid)
			if err != nil || len(ids) == 0 {
				t.Fatalf("node %d holds no slivers of %s (%v)", i, idG, err)
			}
			for _, sid := range ids {
				data, err := s.GetSliver(context.Background(), gid, sid)
				if err != nil {
					t.Fatal(err)
				}
				for j := len(data) / 2; j < len(data); j += 97 {
					data[j] ^= 0x5a
				}
				if err := s.PutSliver(context.Background(), gid, sid, data); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			e.restartNode(i)
		}
		e.readBoth(idG, g)
	})

	t.Run("PublisherKilledMidJob", func(t *testing.T) {
		h := e.blob(3 << 20)
		// wait=false answers 202 as soon as the body is durable, before the
		// job is distributed: the kill lands in the middle of the job.
		req, _ := http.NewRequest(http.MethodPut, "http://"+e.d.pub+"/v1/blobs?epochs=20&wait=false", bytes.NewReader(h))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("PUT ?wait=false: %d %s", resp.StatusCode, body)
		}
		var acc struct {
			JobID string `json:"jobId"`
		}
		if err := json.Unmarshal(body, &acc); err != nil || acc.JobID == "" {
			t.Fatalf("202 answer %s: %v", body, err)
		}
		pub := &client.Publisher{URL: "http://" + e.d.pub}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if j, err := pub.Job(ctx, acc.JobID); err == nil {
			t.Logf("killing the publisher with job %s %s", acc.JobID, j.State)
		}
		e.kill("publisher")
		if _, err := pub.Job(ctx, acc.JobID); err == nil {
			t.Fatal("the publisher still answers after SIGKILL")
		}
		e.restart("publisher", "http://"+e.d.pub+"/status", PublisherArgs(dir, e.d.pub, e.ledger, ""))
		res, err := pub.WaitJob(ctx, acc.JobID, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("job %s after the restart: %v\n%s", acc.JobID, err, tails(filepath.Join(dir, "logs")))
		}
		e.readBoth(res.BlobID().String(), h)

		// haulout store follows its upload's job through the restart.
		k := e.blob(3 << 20)
		cmd := exec.Command(e.bin, "store", "--json", "--verbose", "--epochs", "20", e.file(k))
		cmd.Env = append(os.Environ(), "HAULOUT_PUBLISHER=http://"+e.d.pub)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stderr).ReadString('\n')
		if err != nil || !strings.Contains(line, "as job") {
			_ = cmd.Process.Kill()
			t.Fatalf("haulout store --verbose said %q (%v)", line, err)
		}
		e.kill("publisher")
		e.restart("publisher", "http://"+e.d.pub+"/status", PublisherArgs(dir, e.d.pub, e.ledger, ""))
		var rest bytes.Buffer
		_, _ = io.Copy(&rest, stderr) // until the command exits; Wait needs the pipe drained
		if err := cmd.Wait(); err != nil {
			t.Fatalf("haulout store across a publisher restart: %v\n%s%s", err, stdout.String(), rest.String())
		}
		var out []struct {
			BlobStoreResult client.StoreResult `json:"blobStoreResult"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out) != 1 {
			t.Fatalf("store --json: %v: %s", err, stdout.String())
		}
		e.readBoth(out[0].BlobStoreResult.BlobID().String(), k)
	})

	t.Run("BadInput", func(t *testing.T) { e.badInput(t) })

	// Every blob is still there, and the publisher is still the one the
	// test restarted: bad input crashed nothing.
	for id, want := range map[string][]byte{idA: a, idB: b, idC: c, idD: dd} {
		e.d.read(t, id, want)
	}
	if cmd := e.procs["publisher"]; cmd != nil && cmd.ProcessState != nil {
		t.Fatalf("the publisher exited: %v", cmd.ProcessState)
	}

	// Check the healed nodes' stores on disk once everything has stopped.
	e.stop()
	for _, i := range down {
		s := openStore(t, dir, i)
		for _, id := range []string{idC, idD} {
			if got, want := slivers(t, s, mustID(t, id)), 2*len(e.shards(i)); got != want {
				t.Errorf("node %d's store holds %d slivers of %s, want %d", i, got, id, want)
			}
		}
		s.Close()
	}
}

// badInput sends what clients get wrong, and checks the answers.
func (e *e2e) badInput(t *testing.T) {
	agg, pub := "http://"+e.d.agg, "http://"+e.d.pub
	expect := func(what string, resp *http.Response, err error, code int, reason string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code || !strings.Contains(string(body), reason) {
			t.Errorf("%s: %d %q, want %d and %q", what, resp.StatusCode, body, code, reason)
		}
	}
	put := func(path, contentType string, body io.Reader) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPut, pub+path, body)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return http.DefaultClient.Do(req)
	}

	// Wrong blob IDs.
	resp, err := http.Get(agg + "/v1/blobs/not-a-blob-id")
	expect("GET a malformed blob ID", resp, err, http.StatusBadRequest, "")
	resp, err = http.Get(agg + "/v1/blobs/" + strings.Repeat("A", 43))
	expect("GET an unknown blob ID", resp, err, http.StatusNotFound, "BLOB_NOT_FOUND")
	if _, errOut, err := e.cli("read", "not-a-blob-id"); err == nil || !strings.Contains(errOut, "invalid blob ID") {
		t.Errorf("haulout read of a malformed ID: %v %s", err, errOut)
	}
	if _, errOut, err := e.cli("read", strings.Repeat("A", 43)); err == nil || !strings.Contains(errOut, "BLOB_NOT_FOUND") {
		t.Errorf("haulout read of an unknown ID: %v %s", err, errOut)
	}

	// An empty blob is a blob.
	empty := e.storeCurl(e.file(nil))
	e.readBoth(empty, nil)

	// Bodies over the publisher's limit (10 MiB): 413, with and without a
	// Content-Length.
	for _, body := range []io.Reader{io.LimitReader(zeroReader{}, 11<<20), bytes.NewReader(make([]byte, 11<<20))} {
		resp, err = put("/v1/blobs", "", body)
		// The publisher may answer before it has read the whole body and
		// close the connection under the client's feet.
		if err == nil {
			expect("PUT 11 MiB", resp, nil, http.StatusRequestEntityTooLarge, "")
		} else if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Errorf("PUT 11 MiB: %v", err)
		}
	}
	// Garbage multipart to the quilt route.
	resp, err = put("/v1/quilts", "multipart/form-data; boundary=xyz", strings.NewReader("this is not multipart"))
	expect("PUT garbage multipart", resp, err, http.StatusBadRequest, "")
	resp, err = put("/v1/quilts", "text/plain", strings.NewReader("x"))
	if err != nil || resp.StatusCode/100 != 4 {
		t.Errorf("PUT a quilt that is not multipart: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Conflicting and malformed query parameters.
	resp, err = put("/v1/blobs?permanent=true&deletable=true", "", strings.NewReader("x"))
	expect("PUT permanent and deletable", resp, err, http.StatusBadRequest, "INVALID_BLOB_PERSISTENCE")
	resp, err = put("/v1/blobs?epochs=many", "", strings.NewReader("x"))
	expect("PUT epochs=many", resp, err, http.StatusBadRequest, "epochs")

	// A connection closed in the middle of the body: no blob, no crash.
	conn, err := net.Dial("tcp", e.d.pub)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v1/blobs?epochs=3 HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", e.d.pub, 2<<20)
	_, _ = conn.Write(make([]byte, 100_000))
	conn.Close()
	// Nor a request that stops sending headers half way.
	conn, err = net.Dial("tcp", e.d.pub)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v1/blobs HTTP/1.1\r\nHost: x\r\nContent-Le")
	conn.Close()
	// The publisher still stores.
	after := e.blob(10_000)
	e.readBoth(e.storeCurl(e.file(after)), after)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestDevnetExpiry lets epochs pass on a devnet with short epochs: an
// expired blob answers 404 and its slivers leave the nodes' stores, while a
// longer-lived one stays.
func TestDevnetExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the whole network")
	}
	bin := buildHaulout(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	const epoch = 5 * time.Second
	e := newE2E(t, bin, dir, "--nodes", "4", "--shards", "40", "--epoch-duration", epoch.String())
	short, long := e.blob(100_000), e.blob(100_000)
	idShort := e.storeCLI(e.file(short), "--epochs", "2")
	idLong := e.storeCLI(e.file(long), "--epochs", "max")
	e.readBoth(idShort, short)
	sid := mustID(t, idShort)
	for i := range e.st.Nodes {
		e.waitHolds(i, sid)
	}

	// Wait for the end epoch, then for the aggregator and the nodes to
	// notice.
	ledger := client.NewLedger(e.ledger, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs, err := ledger.BlobObjects(ctx, sid)
	if err != nil || len(objs) != 1 {
		t.Fatalf("Blob objects of %s: %v %v", idShort, objs, err)
	}
	end := objs[0].EndEpoch
	for {
		now, err := ledger.CurrentEpoch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if now >= end {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("epoch %d never came (now %d)", end, now)
		case <-time.After(200 * time.Millisecond):
		}
	}
	for {
		resp, err := http.Get("http://" + e.d.agg + "/v1/blobs/" + idShort)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the expired blob still answers %d", resp.StatusCode)
		case <-time.After(200 * time.Millisecond):
		}
	}
	for i := range e.st.Nodes {
		c, err := nodeclient.New(e.st.Nodes[i].URL())
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, err := c.GetMetadata(ctx, sid)
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Code() == http.StatusNotFound {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("node %d still serves the expired blob's metadata (%v)", i, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if out := e.mustCLI("blob-status", idShort); !strings.Contains(out, "not stored") {
		t.Errorf("blob-status of the expired blob:\n%s", out)
	}
	if out := e.mustCLI("list-blobs"); strings.Contains(out, idShort) || !strings.Contains(out, idLong) {
		t.Errorf("list-blobs after expiry:\n%s", out)
	}
	if out := e.mustCLI("list-blobs", "--include-expired"); !strings.Contains(out, idShort) {
		t.Errorf("list-blobs --include-expired misses the expired blob:\n%s", out)
	}
	e.readBoth(idLong, long)

	// On disk: nothing left of the expired blob, all of the other.
	e.stop()
	lid := mustID(t, idLong)
	for i := range e.st.Nodes {
		s := openStore(t, dir, i)
		if n := slivers(t, s, sid); n != 0 {
			t.Errorf("node %d still stores %d slivers of the expired blob", i, n)
		}
		if _, err := s.GetMetadata(context.Background(), sid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("node %d still stores the expired blob's metadata (%v)", i, err)
		}
		if n, want := slivers(t, s, lid), 2*len(e.shards(i)); n != want {
			t.Errorf("node %d stores %d slivers of the live blob, want %d", i, n, want)
		}
		s.Close()
	}
}
