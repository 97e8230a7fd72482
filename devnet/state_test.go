package devnet

import (
	"net"
	"strings"
	"testing"
)

// fixedAddrListener is a listener the stubbed port picker hands out: it
// claims an address without holding it, as a port another process picked
// and closed looks to a second picker.
type fixedAddrListener struct {
	net.Listener
	addr net.Addr
}

func (l fixedAddrListener) Addr() net.Addr { return l.addr }

// stubPortPicker makes listenLoopback hand out first the given addresses,
// then real free ports, until the test ends.
func stubPortPicker(t *testing.T, first ...string) {
	t.Helper()
	orig := listenLoopback
	t.Cleanup(func() { listenLoopback = orig })
	listenLoopback = func() (net.Listener, error) {
		ln, err := orig()
		if err != nil || len(first) == 0 {
			return ln, err
		}
		addr, err := net.ResolveTCPAddr("tcp", first[0])
		if err != nil {
			ln.Close()
			return nil, err
		}
		first = first[1:]
		return fixedAddrListener{Listener: ln, addr: addr}, nil
	}
}

// allAddrs is every address a devnet state gives its services.
func allAddrs(st *State) []string {
	out := []string{st.Ledger}
	for _, n := range st.Nodes {
		out = append(out, n.Listen, n.Metrics)
	}
	return out
}

// TestPortsSkipReserved: the devnet's port picker is handed the
// publisher's port (as when a test picked it the same way and has not yet
// bound it) and the same port twice; no node nor the ledger gets either
// twice.
func TestPortsSkipReserved(t *testing.T) {
	pub := freePort(t)
	agg := freePort(t)
	dup := freePort(t)
	stubPortPicker(t, pub, dup, dup, agg)
	dir := t.TempDir()
	st, err := LoadOrCreate(dir, 3, 6, pub, agg, "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{pub: true, agg: true}
	for _, a := range allAddrs(st) {
		if seen[a] {
			t.Errorf("address %s given twice (publisher %s, aggregator %s): %+v", a, pub, agg, st)
		}
		seen[a] = true
	}

	// A second start keeps the recorded ports, whatever the picker says.
	stubPortPicker(t, st.Nodes[0].Listen)
	again, err := LoadOrCreate(dir, 0, 0, freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(allAddrs(again), " "), strings.Join(allAddrs(st), " "); got != want {
		t.Errorf("reloaded addresses %s, recorded %s", got, want)
	}

	// A service given a recorded node's port is refused, clearly.
	taken := st.Nodes[1].Metrics
	_, port, _ := net.SplitHostPort(taken)
	for _, addr := range []string{taken, "localhost:" + port, ":" + port} {
		if _, err := LoadOrCreate(dir, 0, 0, addr); err == nil || !strings.Contains(err.Error(), "node-1") {
			t.Errorf("publisher on %s, node-1's metrics port: err %v, want one naming node-1", addr, err)
		}
	}
}

// TestPortsGiveUp: a picker that only ever hands out taken ports ends in
// an error, not a hang.
func TestPortsGiveUp(t *testing.T) {
	pub := freePort(t)
	many := make([]string, 1000)
	for i := range many {
		many[i] = pub
	}
	stubPortPicker(t, many...)
	if _, err := freeAddrs(3, []string{pub}); err == nil || !strings.Contains(err.Error(), "no free loopback port") {
		t.Fatalf("err %v, want no free loopback port", err)
	}
}
