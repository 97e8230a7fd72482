package chain

import (
	"bytes"
	"testing"

	"github.com/haulout/haulout/bls"
)

// testCommittee returns a committee of len(shardsPerNode) nodes with
// deterministic keys, node i holding shardsPerNode[i] contiguous shards.
func testCommittee(t testing.TB, epoch Epoch, shardsPerNode ...int) (Committee, []*bls.PrivateKey) {
	t.Helper()
	var regs []NodeRegistration
	var keys []*bls.PrivateKey
	next := uint16(0)
	for i, n := range shardsPerNode {
		k, err := bls.KeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, 32))
		if err != nil {
			t.Fatal(err)
		}
		node := NodeInfo{ID: ObjectID{31: byte(i + 1)}, Name: "node", RESTURL: "http://127.0.0.1:1"}
		for range n {
			node.Shards = append(node.Shards, next)
			next++
		}
		regs = append(regs, NewNodeRegistration(k, node, epoch))
		keys = append(keys, k)
	}
	c, err := NewCommittee(epoch, regs, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return c, keys
}
