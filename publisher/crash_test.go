//go:build unix

package publisher

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher/jobs"
)

// The crash tests run a publisher in a child process (this test binary,
// re-executed with childEnv set), make it stop at a chosen step, kill it
// with SIGKILL, and check that a publisher started afterwards finishes the
// job.

// childEnv carries the child's childSpec (JSON).
const childEnv = "HAULOUT_PUBLISHER_TEST_CHILD"

// childSpec configures a child publisher.
type childSpec struct {
	Store     storeSpec `json:"store"`
	LedgerURL string    `json:"ledgerUrl"`
	Spool     string    `json:"spool"`
	Owner     string    `json:"owner"`
	// Hold stops the child at a step, for the parent to kill it there:
	// "registered" blocks the job's move to distributing, so the job stays
	// registered; "distributing" lets only nodes below Allow receive their
	// slivers; "certified" blocks the recording of the certification, so
	// the blob is certified on the ledger but the job does not say so.
	Hold  string `json:"hold"`
	Allow int    `json:"allow"`
	// Lease is the child's lease duration.
	Lease time.Duration `json:"lease"`
	// MaxBodySize is the child's body limit (default the publisher's).
	MaxBodySize int64 `json:"maxBodySize"`
	// Probe serves the child's peak memory at /test/memory (see
	// memoryProbe) beside the API.
	Probe bool `json:"probe"`
	// StreamThreshold is the child's Config.StreamThreshold.
	StreamThreshold int64 `json:"streamThreshold"`
	// CPUProfile, if set, is where the child writes its CPU profile when
	// it stops on SIGTERM.
	CPUProfile string `json:"cpuProfile"`
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(childMain(spec))
	}
	os.Exit(m.Run())
}

// childMain runs a publisher until killed. It prints its address on the
// first line of stdout.
func childMain(raw string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child spec:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if spec.CPUProfile != "" {
		f, err := os.Create(spec.CPUProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			return 2
		}
		pprof.StartCPUProfile(f)
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	st, err := spec.Store.open(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "job store:", err)
		return 2
	}
	defer st.Close()
	var js JobStore = st
	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	dial := func(n chain.NodeInfo) (Node, error) { return nodeclient.New(n.RESTURL, nodeclient.WithHTTPClient(hc)) }
	switch spec.Hold {
	case "registered":
		js = holdingStore{JobStore: st, at: jobs.StateDistributing}
	case "certified":
		js = holdingStore{JobStore: st, at: jobs.StateCertified}
	case "distributing":
		dial = func(n chain.NodeInfo) (Node, error) {
			c, err := nodeclient.New(n.RESTURL, nodeclient.WithHTTPClient(hc))
			for i := range spec.Allow {
				if n.ID == chaintest.NodeID(i) {
					return c, err
				}
			}
			return holdingNode{c}, err
		}
	}
	p, err := New(Config{
		Ledger: ledgerhttp.NewClient(spec.LedgerURL), Jobs: js, SpoolDir: spec.Spool, Owner: spec.Owner,
		LeaseDuration: spec.Lease, PollInterval: 100 * time.Millisecond, NodeAttempts: 3,
		RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond, Dial: dial,
		MaxBodySize: spec.MaxBodySize, StreamThreshold: spec.StreamThreshold,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "publisher:", err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 2
	}
	fmt.Println(ln.Addr().String())
	if spec.Probe {
		return serveProbed(ctx, p, ln)
	}
	if err := p.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

// holdingStore blocks, forever, the update that moves a job to state at.
type holdingStore struct {
	JobStore
	at jobs.State
}

func (h holdingStore) Update(ctx context.Context, l jobs.Lease, c jobs.Change) error {
	if c.State == h.at {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.JobStore.Update(ctx, l, c)
}

// holdingNode never finishes sending slivers.
type holdingNode struct{ Node }

func (h holdingNode) PutSlivers(ctx context.Context, id codec.BlobID, s []nodeclient.BatchSliver) (nodeclient.BatchResult, error) {
	<-ctx.Done()
	return nodeclient.BatchResult{}, ctx.Err()
}

// child is a publisher in a child process.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
}

func startChild(t testing.TB, spec childSpec) *child {
	t.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: &stderr}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child stderr:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Wait()
		t.Fatalf("child did not start: %v\n%s", err, stderr.String())
	}
	c.url = "http://" + strings.TrimSpace(line)
	return c
}

// kill ends the child with SIGKILL: no shutdown, no lease released.
func (c *child) kill(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", err)
	}
}

func TestCrashRecovery(t *testing.T) {
	cases := []struct {
		name string
		hold string
		// sameOwner restarts under the killed publisher's name (its
		// jobs are taken back at once); otherwise another publisher takes
		// them once their lease expires.
		sameOwner bool
		reached   func(jobs.Job) bool
		// stream encodes with the streaming encoder into a sliver file.
		stream bool
	}{
		{
			name: "after registration", hold: "registered", sameOwner: true,
			reached: func(j jobs.Job) bool { return j.State == jobs.StateRegistered },
		},
		{
			name: "mid-distribution", hold: "distributing",
			reached: func(j jobs.Job) bool {
				sent := 0
				for _, n := range j.Nodes {
					if n.State == jobs.NodeSent || n.State == jobs.NodeConfirmed {
						sent++
					}
				}
				return j.State == jobs.StateDistributing && sent == 2
			},
		},
	}
	cases = append(cases, struct {
		name      string
		hold      string
		sameOwner bool
		reached   func(jobs.Job) bool
		stream    bool
	}{
		name: "after certification, before recording it", hold: "certified", sameOwner: true,
		reached: func(j jobs.Job) bool {
			confirmed := 0
			for _, n := range j.Nodes {
				if n.State == jobs.NodeConfirmed {
					confirmed++
				}
			}
			// A quorum (7 of 10 shards) may be 4 nodes: the three with
			// two shards and one more. The ledger's certification is
			// waited for below.
			return j.State == jobs.StateDistributing && confirmed >= 4
		},
	})
	streamed := cases[1]
	streamed.name, streamed.stream = "streamed mid-distribution", true
	cases = append(cases, streamed)
	for _, kind := range storeKinds {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				tn := newTestNet(t, netOptions{}, testShards...)
				spec := newStoreSpec(t, kind)
				st := openStore(t, spec)
				spool := t.TempDir()
				// The restarted owner must not wait for its previous run's
				// leases: they are long. Another publisher has to: they are
				// short.
				lease := 2 * time.Second
				if tc.sameOwner {
					lease = time.Minute
				}
				threshold := int64(-1)
				if tc.stream {
					threshold = 100_000
				}
				c := startChild(t, childSpec{Store: spec, LedgerURL: tn.ledgerURL, Spool: spool, Owner: "doomed", Hold: tc.hold, Allow: 2, Lease: lease, StreamThreshold: threshold})

				blob := randomBlob(t, 700_000)
				id, _ := codec.ComputeBlobID(blob, tn.nShards)
				code, body, _ := put(t, c.url, "/v1/blobs?wait=false&epochs=4&permanent=true", bytes.NewReader(blob), nil)
				if code != http.StatusAccepted {
					t.Fatalf("PUT: %d %s", code, body)
				}
				var acc jobAccepted
				json.Unmarshal(body, &acc)
				before := waitJob(t, st, acc.JobID, 30*time.Second, tc.name, tc.reached)
				if tc.hold == "certified" {
					// Kill once the ledger has the certificate that the job
					// does not record.
					deadline := time.Now().Add(30 * time.Second)
					for {
						st, err := tn.ledger.BlobStatus(context.Background(), id)
						if err == nil && st.IsCertified {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("not certified: %+v %v", st, err)
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
				c.kill(t)
				if before.Registration == nil || before.Lease.Owner != "doomed" {
					t.Fatalf("job at the kill: %+v", before)
				}
				if st, err := tn.ledger.BlobStatus(context.Background(), id); err != nil || st.IsCertified != (tc.hold == "certified") {
					t.Fatalf("ledger status at the kill: %+v %v", st, err)
				}
				if j, _ := st.Get(context.Background(), acc.JobID); j.State != before.State || j.Certificate != nil || j.Result != nil {
					t.Fatalf("job at the kill: %+v", j)
				}

				cfg := testConfig(t, tn, st, spool)
				cfg.Owner = "rescuer"
				cfg.StreamThreshold = threshold
				if tc.sameOwner {
					cfg.Owner = "doomed"
				}
				startPublisher(t, cfg)
				j := waitJob(t, st, acc.JobID, 50*time.Second, "done", func(j jobs.Job) bool { return j.State.Terminal() })
				if j.State != jobs.StateDone {
					t.Fatalf("job ended %s: %s", j.State, j.Failure)
				}
				if j.Attempts != 2 || j.Registration.ObjectID != before.Registration.ObjectID || j.BlobID != id.String() {
					t.Errorf("job after restart: attempts %d, object %s (was %s)", j.Attempts, j.Registration.ObjectID, before.Registration.ObjectID)
				}
				objs, err := tn.ledger.BlobObjects(context.Background(), id)
				if err != nil || len(objs) != 1 || !objs[0].Certified() || objs[0].Deletable || objs[0].EndEpoch != objs[0].RegisteredEpoch+4 {
					t.Fatalf("Blob objects %+v, %v", objs, err)
				}
				got, err := tn.readBlob(context.Background(), id)
				if err != nil || !bytes.Equal(got, blob) {
					t.Fatalf("read back: %v", err)
				}
				var res storeResult
				if err := json.Unmarshal(j.Result, &res); err != nil || res.NewlyCreated == nil || res.NewlyCreated.BlobObject.ID != objs[0].ObjectID.String() {
					t.Errorf("result %s", j.Result)
				}
				spoolEmpty(t, spool)
			})
		}
	}
}

// TestSpoolSweep: at start, spool files that no unfinished job needs are
// removed: a partial body and an orphan once old enough, a finished job's
// at once; an unfinished job's stays (and its job is resumed).
func TestSpoolSweep(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	ctx := context.Background()
	old := time.Now().Add(-time.Hour)
	write := func(name string, age time.Time) string {
		path := spool + "/" + name
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, age, age)
		return path
	}
	partialOld := write("a"+spoolPartExt, old)
	partialNew := write("b"+spoolPartExt, time.Now())
	orphanOld := write("c"+spoolExt, old)
	orphanNew := write("d"+spoolExt, time.Now())
	finished := write("e"+spoolExt, old)
	finishedSlivers := write("e"+spoolSliverExt, time.Now())
	j, err := st.Create(ctx, jobs.NewJob{ID: "e", Size: 1, SpoolPath: finished}, "someone", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Fail(ctx, j.Lease, "test"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, tn, st, spool)
	startPublisher(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, e1 := os.Stat(partialOld)
		_, e2 := os.Stat(orphanOld)
		_, e3 := os.Stat(finished)
		_, e4 := os.Stat(finishedSlivers)
		if os.IsNotExist(e1) && os.IsNotExist(e2) && os.IsNotExist(e3) && os.IsNotExist(e4) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stale spool files left: %v %v %v %v", e1, e2, e3, e4)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range []string{partialNew, orphanNew} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed too early: %v", p, err)
		}
	}
}

// TestTakeoverFailsWithoutSpool: a job whose spool file is gone (another
// machine's disk) is marked failed with the reason, not left behind.
func TestTakeoverFailsWithoutSpool(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	ctx := context.Background()
	j, err := st.Create(ctx, jobs.NewJob{Size: 10, SpoolPath: "/nonexistent/spool/x.blob", Options: jobs.Options{Epochs: 1}}, "gone", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	startPublisher(t, testConfig(t, tn, st, t.TempDir()))
	j = waitJob(t, st, j.ID, 10*time.Second, "failed", func(j jobs.Job) bool { return j.State.Terminal() })
	if j.State != jobs.StateFailed || !strings.Contains(j.Failure, "spool") || j.Attempts != 2 {
		t.Errorf("job %+v", j)
	}
}
