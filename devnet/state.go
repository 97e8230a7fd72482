package devnet

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
)

// State is what a devnet directory remembers between starts.
type State struct {
	Version int         `json:"version"`
	Shards  int         `json:"shards"`
	Ledger  string      `json:"ledger"` // address the ledger listens on
	Nodes   []NodeState `json:"nodes"`
}

// NodeState is one storage node of the devnet.
type NodeState struct {
	Name   string         `json:"name"`
	ID     chain.ObjectID `json:"id"`
	Listen string         `json:"listen"`
	// Metrics is the address of the node's Prometheus listener.
	Metrics string `json:"metrics"`
}

const (
	stateFile   = "devnet.json"
	genesisFile = "genesis.json"
	stateFormat = 1
)

// NodeDir is where node i keeps its data and key.
func NodeDir(dir string, i int) string { return filepath.Join(dir, "nodes", fmt.Sprint(i)) }

// KeyFile is node i's BLS key seed (hex).
func KeyFile(dir string, i int) string { return filepath.Join(NodeDir(dir, i), "bls.seed") }

// URL returns the REST URL of a node.
func (n NodeState) URL() string { return "http://" + n.Listen }

// LoadOrCreate reads the devnet in dir, or creates one with nodes nodes and
// shards shards. A directory that holds a devnet of another shape is an
// error rather than a silent change.
//
// reserved are the addresses the devnet's other services (publisher,
// aggregator, ledger) are given: a new devnet picks its ports among the
// others, and a recorded node port that is one of them is an error (the
// node's address is in the genesis committee and cannot move).
func LoadOrCreate(dir string, nodes, shards int, reserved ...string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err == nil {
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
		}
		if st.Version != stateFormat {
			return nil, fmt.Errorf("%s: unknown devnet format %d", dir, st.Version)
		}
		if (nodes != 0 && nodes != len(st.Nodes)) || (shards != 0 && shards != st.Shards) {
			return nil, fmt.Errorf("%s holds a devnet of %d nodes and %d shards, not %d and %d: use another --dir, or remove it to start afresh",
				dir, len(st.Nodes), st.Shards, nodes, shards)
		}
		for _, n := range st.Nodes {
			for _, a := range []string{n.Listen, n.Metrics} {
				for _, r := range reserved {
					if r != "" && sameLoopbackPort(a, r) {
						return nil, fmt.Errorf("%s: address %s is %s's (recorded in %s), so it cannot serve another service too: choose another address for it",
							dir, r, n.Name, stateFile)
					}
				}
			}
		}
		return &st, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if nodes < 1 || shards < nodes {
		return nil, fmt.Errorf("need at least one node and at least as many shards as nodes (got %d nodes, %d shards)", nodes, shards)
	}
	return create(dir, nodes, shards, reserved)
}

func create(dir string, nodes, shards int, reserved []string) (*State, error) {
	st := &State{Version: stateFormat, Shards: shards}
	addrs, err := freeAddrs(1+2*nodes, reserved)
	if err != nil {
		return nil, err
	}
	st.Ledger = addrs[0]
	assign := chain.AssignShards(uint16(shards), nodes)
	var genesis []chain.NodeRegistration
	for i := 0; i < nodes; i++ {
		if err := os.MkdirAll(NodeDir(dir, i), 0o700); err != nil {
			return nil, err
		}
		seed := make([]byte, 32)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.WriteFile(KeyFile(dir, i), []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
			return nil, err
		}
		key, err := bls.KeyFromSeed(seed)
		if err != nil {
			return nil, err
		}
		var id chain.ObjectID
		if _, err := rand.Read(id[:]); err != nil {
			return nil, err
		}
		n := NodeState{Name: fmt.Sprintf("node-%d", i), ID: id, Listen: addrs[1+2*i], Metrics: addrs[2+2*i]}
		st.Nodes = append(st.Nodes, n)
		info := chain.NodeInfo{ID: id, Name: n.Name, RESTURL: n.URL(), Shards: assign[i]}
		genesis = append(genesis, chain.NewNodeRegistration(key, info, 0))
	}
	g, err := json.MarshalIndent(genesis, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, genesisFile), g, 0o600); err != nil {
		return nil, err
	}
	s, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	// The state file is written last: its presence means the rest is there.
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, s, 0o600); err != nil {
		return nil, err
	}
	return st, os.Rename(tmp, filepath.Join(dir, stateFile))
}

// listenLoopback listens on a port of the system's choice; a variable so
// that tests can make it hand out ports that are taken.
var listenLoopback = func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// freeAddrs returns n loopback addresses whose ports were free just now,
// none of them the port of an address in avoid nor of another one returned:
// a port the system hands out may be one that a caller has picked the same
// way and not yet bound (the devnet tests pick the publisher's so).
func freeAddrs(n int, avoid []string) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	taken := map[string]bool{}
	for _, a := range avoid {
		if _, port, err := net.SplitHostPort(a); err == nil {
			taken[port] = true
		}
	}
	out := make([]string, 0, n)
	// Bounded: a system that keeps handing out taken ports is an error,
	// not a hang.
	for tries := 0; len(out) < n; tries++ {
		if tries >= 10*n+100 {
			return nil, fmt.Errorf("no free loopback port after %d tries", tries)
		}
		ln, err := listenLoopback()
		if err != nil {
			return nil, err
		}
		// Kept open until all are picked, so the system does not hand the
		// same port out twice; a skipped one too.
		lns = append(lns, ln)
		addr := ln.Addr().String()
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if taken[port] {
			continue
		}
		taken[port] = true
		out = append(out, addr)
	}
	return out, nil
}

// sameLoopbackPort reports whether addresses a and b, one of them a
// devnet's loopback address, would listen on the same port: the same port
// on a loopback, unspecified or unnamed host.
func sameLoopbackPort(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	local := func(h string) bool {
		if h == "" || h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
	}
	return local(ha) && local(hb)
}

// ReadKeySeed reads a node's key seed file (hex).
func ReadKeySeed(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(string(trimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a hex key seed", path)
	}
	return seed, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
