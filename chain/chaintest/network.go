package chaintest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// Network is a set of storage nodes with deterministic keys.
type Network struct {
	// Keys[i] is the key of Genesis[i].Node.
	Keys    []*bls.PrivateKey
	Genesis []chain.NodeRegistration
	byID    map[chain.ObjectID]*bls.PrivateKey
}

// NodeKey returns the deterministic key of node i of any network.
func NodeKey(i int) *bls.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "haulout chaintest node %d", i))
	k, err := bls.KeyFromSeed(seed[:])
	if err != nil {
		panic(fmt.Sprintf("chaintest: key from seed: %v", err))
	}
	return k
}

// NodeID returns the object ID of node i of any network.
func NodeID(i int) chain.ObjectID {
	var id chain.ObjectID
	id[0] = 0xa0
	binary.BigEndian.PutUint32(id[28:], uint32(i+1))
	return id
}

// NewNetwork returns len(shardsPerNode) nodes, node i holding
// shardsPerNode[i] contiguous shards, registered for genesis (proofs of
// possession over epoch 0).
func NewNetwork(t testing.TB, shardsPerNode ...int) *Network {
	t.Helper()
	n := &Network{byID: make(map[chain.ObjectID]*bls.PrivateKey)}
	next := 0
	for i, count := range shardsPerNode {
		node := chain.NodeInfo{
			ID:      NodeID(i),
			Name:    fmt.Sprintf("node-%d", i),
			RESTURL: fmt.Sprintf("http://node-%d.invalid:9185", i),
		}
		for range count {
			node.Shards = append(node.Shards, uint16(next))
			next++
		}
		k := NodeKey(i)
		n.Keys = append(n.Keys, k)
		n.byID[node.ID] = k
		n.Genesis = append(n.Genesis, chain.NewNodeRegistration(k, node, 0))
	}
	return n
}

// Register returns a registration of node i (of any network) holding shards,
// proving possession for epoch; the network learns its key.
func (n *Network) Register(i int, shards []uint16, epoch chain.Epoch) chain.NodeRegistration {
	k := NodeKey(i)
	n.byID[NodeID(i)] = k
	node := chain.NodeInfo{ID: NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: fmt.Sprintf("http://node-%d.invalid:9185", i), Shards: shards}
	return chain.NewNodeRegistration(k, node, epoch)
}

// Certificate returns the certificate of c's nodes signers over msg. It
// fails the test if a signer's key is unknown to the network.
func (n *Network) Certificate(t testing.TB, c chain.Committee, msg []byte, signers ...uint16) chain.Certificate {
	t.Helper()
	sigs := make([]bls.Signature, len(signers))
	for i, s := range signers {
		if int(s) >= len(c.Nodes) {
			// Out-of-range signers are a test of refusal: sign with anyone.
			sigs[i] = NodeKey(int(s)).Sign(msg)
			continue
		}
		k, ok := n.byID[c.Nodes[s].ID]
		if !ok {
			t.Fatalf("chaintest: no key for node %s", c.Nodes[s].ID)
		}
		sigs[i] = k.Sign(msg)
	}
	cert, err := chain.NewCertificate(signers, msg, sigs)
	if err != nil {
		t.Fatalf("chaintest: certificate: %v", err)
	}
	return cert
}

// Quorum returns the first nodes of c, in index order, that together hold a
// quorum of shards.
func Quorum(c chain.Committee) []uint16 {
	var out []uint16
	w := 0
	for i, node := range c.Nodes {
		if c.IsQuorum(w) {
			break
		}
		out = append(out, uint16(i))
		w += len(node.Shards)
	}
	return out
}

// Blob returns a valid registration request for a blob of size bytes on
// nShards shards, ending at end: a root hash derived from seed, the blob ID
// that commits to it, and exactly the encoded size the blob takes.
func Blob(seed string, size uint64, nShards uint16, end chain.Epoch, deletable bool) chain.RegisterRequest {
	root := chain.Hash(sha256.Sum256([]byte("haulout chaintest root " + seed)))
	enc, err := chain.EncodedBlobLength(size, nShards)
	if err != nil {
		panic(fmt.Sprintf("chaintest: blob of %d bytes on %d shards: %v", size, nShards, err))
	}
	return chain.RegisterRequest{
		BlobID:        chain.DeriveBlobID(root, chain.EncodingRS2, size),
		RootHash:      root,
		UnencodedSize: size,
		EncodingType:  chain.EncodingRS2,
		EncodedSize:   enc,
		EndEpoch:      end,
		Deletable:     deletable,
	}
}

// Confirmation returns the storage-confirmation message for rec in epoch.
func Confirmation(rec chain.BlobRecord, epoch chain.Epoch) []byte {
	return chain.StorageConfirmation{Epoch: epoch, BlobID: rec.BlobID, Persistence: rec.Persistence()}.Bytes()
}

// InvalidBlobID returns the invalid-blob-ID message for id in epoch.
func InvalidBlobID(id codec.BlobID, epoch chain.Epoch) []byte {
	return chain.InvalidBlobIDMessage{Epoch: epoch, BlobID: id}.Bytes()
}
