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
func LoadOrCreate(dir string, nodes, shards int) (*State, error) {
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
		return &st, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if nodes < 1 || shards < nodes {
		return nil, fmt.Errorf("need at least one node and at least as many shards as nodes (got %d nodes, %d shards)", nodes, shards)
	}
	return create(dir, nodes, shards)
}

func create(dir string, nodes, shards int) (*State, error) {
	st := &State{Version: stateFormat, Shards: shards}
	addrs, err := freeAddrs(1 + 2*nodes)
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

// freeAddrs returns n loopback addresses whose ports were free just now.
func freeAddrs(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	out := make([]string, n)
	for i := range out {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out[i] = ln.Addr().String()
	}
	return out, nil
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
