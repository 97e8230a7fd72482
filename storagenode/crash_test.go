package storagenode

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
)

// The crash test runs a node in a child process: the test binary again,
// told by these variables to be node 0 of a ledger served over HTTP.
const (
	childEnv       = "HAULOUT_STORAGENODE_CHILD"
	childDirEnv    = "HAULOUT_STORAGENODE_CHILD_DIR"
	childLedgerEnv = "HAULOUT_STORAGENODE_CHILD_LEDGER"
	childAddrEnv   = "HAULOUT_STORAGENODE_CHILD_ADDR"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild serves node 0 until killed (or interrupted).
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := New(ctx, Config{
		Dir:    os.Getenv(childDirEnv),
		Ledger: ledgerhttp.NewClient(os.Getenv(childLedgerEnv)),
		NodeID: chaintest.NodeID(0), Key: chaintest.NodeKey(0),
		Addr: os.Getenv(childAddrEnv), Logger: log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child node:", err)
		return 1
	}
	defer n.Close()
	if err := n.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child node:", err)
		return 1
	}
	return 0
}

// upload is one acknowledged write: metadata (pair < 0) or a sliver.
type ack struct {
	blob int
	pair int
	axis codec.Axis
}

func TestKillNineKeepsAcknowledgedSlivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := t.Context()
	addr := freeAddr(t)
	const nShards = 8
	info := chain.NodeInfo{ID: chaintest.NodeID(0), Name: "node-0", RESTURL: "http://" + addr}
	for s := range uint16(nShards) {
		info.Shards = append(info.Shards, s)
	}
	l, err := local.Open(ctx, local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"),
		Genesis: []chain.NodeRegistration{chain.NewNodeRegistration(chaintest.NodeKey(0), info, 0)}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ledgerSrv := httptest.NewServer((&ledgerhttp.Server{Ledger: l, Logger: testLogger(t), MaxWait: time.Second}).Handler())
	defer ledgerSrv.Close()
	dir := t.TempDir()
	client, err := nodeclient.New("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}

	var children []*exec.Cmd
	defer func() {
		// Before the ledger's server closes: the node long-polls it.
		for _, c := range children {
			c.Process.Kill()
			c.Wait()
		}
	}()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", childDirEnv+"="+dir, childLedgerEnv+"="+ledgerSrv.URL, childAddrEnv+"="+addr)
		cmd.Stderr = t.Output()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
		began := time.Now()
		eventually(t, 20*time.Second, "the child node answers", func() bool {
			_, err := client.Health(ctx, false)
			return err == nil
		})
		t.Logf("child node up in %v", time.Since(began))
		return cmd
	}

	// Register the blobs.
	code, _ := codec.NewConfig(nShards)
	const nBlobs = 24
	blobs := make([]*blob, nBlobs)
	for i := range blobs {
		data := randomBytes(t, 200_000)
		enc, err := code.Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := chain.EncodedBlobLength(uint64(len(data)), nShards)
		rec, err := l.Register(ctx, chain.RegisterRequest{BlobID: enc.Metadata.ID, RootHash: chain.Hash(enc.Metadata.RootHash()),
			UnencodedSize: uint64(len(data)), EncodingType: chain.EncodingRS2, EncodedSize: size, EndEpoch: 5})
		if err != nil {
			t.Fatal(err)
		}
		blobs[i] = &blob{data: data, enc: enc, id: enc.Metadata.ID, rec: rec}
	}

	child := start()
	var mu sync.Mutex
	var acks []ack
	confirmed := map[int]bool{}
	uctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	work := make(chan int, nBlobs)
	for i := range nBlobs {
		work <- i
	}
	close(work)
	for range 6 {
		wg.Go(func() {
			for i := range work {
				b := blobs[i]
				if client.PutMetadata(uctx, b.id, &b.enc.Metadata.BlobMetadata) != nil {
					continue
				}
				mu.Lock()
				acks = append(acks, ack{blob: i, pair: -1})
				mu.Unlock()
				for p := range nShards {
					pr, sc := b.enc.Pair(p)
					for _, s := range []*codec.Sliver{pr, sc} {
						if client.PutSliver(uctx, b.id, uint16(p), s) == nil {
							mu.Lock()
							acks = append(acks, ack{blob: i, pair: p, axis: s.Axis})
							mu.Unlock()
						}
					}
				}
				if _, err := client.Confirmation(uctx, b.id, chain.PersistencePermanent()); err == nil {
					mu.Lock()
					confirmed[i] = true
					mu.Unlock()
				}
			}
		})
	}
	eventually(t, 30*time.Second, "uploads under way", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acks) >= 150
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	cancel()
	wg.Wait()
	t.Logf("killed the node after %d acknowledged writes, %d blobs confirmed", len(acks), len(confirmed))

	start()
	for _, a := range acks {
		b := blobs[a.blob]
		if a.pair < 0 {
			md, err := client.GetMetadata(ctx, b.id)
			if err != nil {
				t.Fatalf("blob %d: acknowledged metadata lost: %v", a.blob, err)
			}
			if !bytes.Equal(md.MarshalBCS(), b.enc.Metadata.MarshalBCS()) {
				t.Fatalf("blob %d: metadata differs", a.blob)
			}
			continue
		}
		got, err := client.GetSliver(ctx, b.id, uint16(a.pair), a.axis)
		if err != nil {
			t.Fatalf("blob %d: acknowledged %s sliver %d lost: %v", a.blob, a.axis, a.pair, err)
		}
		pr, sc := b.enc.Pair(a.pair)
		want := pr
		if a.axis == codec.Secondary {
			want = sc
		}
		if !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("blob %d: %s sliver %d differs", a.blob, a.axis, a.pair)
		}
	}
	for i := range confirmed {
		if _, err := client.Confirmation(ctx, blobs[i].id, chain.PersistencePermanent()); err != nil {
			t.Fatalf("blob %d confirmed before the crash, not after: %v", i, err)
		}
	}
	// Finishing the uploads after the crash completes every blob.
	for _, b := range blobs {
		if err := client.PutMetadata(ctx, b.id, &b.enc.Metadata.BlobMetadata); err != nil {
			t.Fatal(err)
		}
		var all []nodeclient.BatchSliver
		for p := range nShards {
			pr, sc := b.enc.Pair(p)
			all = append(all, nodeclient.BatchSliver{Pair: uint16(p), Sliver: pr}, nodeclient.BatchSliver{Pair: uint16(p), Sliver: sc})
		}
		if _, err := client.PutSlivers(ctx, b.id, all); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Confirmation(ctx, b.id, chain.PersistencePermanent()); err != nil {
			t.Fatal(err)
		}
	}
}
