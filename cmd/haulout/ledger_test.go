package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestLedgerServesAndRestarts(t *testing.T) {
	dir := t.TempDir()
	net := chaintest.NewNetwork(t, 2, 2)
	gen, err := json.Marshal(net.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(genesis, gen, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		addr := freeAddr(t)
		args := []string{"ledger", "--dir", filepath.Join(dir, "ledger"), "--listen", addr}
		if round == 0 {
			args = append(args, "--genesis", genesis)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		var stderr bytes.Buffer
		go func() { done <- run(ctx, args, nil, &bytes.Buffer{}, &stderr) }()
		cl := ledgerhttp.NewClient("http://" + addr)
		var ok bool
		for i := 0; i < 100 && !ok; i++ {
			c, err := cl.CurrentCommittee(ctx)
			ok = err == nil && len(c.Nodes) == 2 && c.NShards == 4
			if !ok {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if !ok {
			cancel()
			t.Fatalf("round %d: ledger did not serve its committee; stderr:\n%s", round, stderr.String())
		}
		cancel()
		if code := <-done; code != exitOK {
			t.Fatalf("round %d: exit %d; stderr:\n%s", round, code, stderr.String())
		}
	}
}

func TestLedgerNeedsGenesis(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"ledger", "--dir", t.TempDir(), "--listen", freeAddr(t)}, nil, &bytes.Buffer{}, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "--genesis") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
