package chain

import (
	"fmt"
	"slices"

	"github.com/haulout/haulout/bls"
)

// NodeInfo describes one storage node of a committee.
type NodeInfo struct {
	// ID is the node's Sui object ID (its staking pool in Walrus).
	ID ObjectID `json:"id"`
	// Name is for people.
	Name string `json:"name"`
	// RESTURL is the base URL of the node's storage API, e.g.
	// https://node1.example:9185.
	RESTURL string `json:"restUrl"`
	// PublicKey is the node's BLS12-381 min-pk protocol key.
	PublicKey bls.PublicKey `json:"publicKey"`
	// Shards are the shard indices the node holds in this epoch.
	Shards []uint16 `json:"shards"`
}

// Clone returns a deep copy of n.
func (n NodeInfo) Clone() NodeInfo {
	n.Shards = slices.Clone(n.Shards)
	return n
}

// Committee is the set of storage nodes of one epoch and the shards each
// holds. Signers in certificates are indices into Nodes.
type Committee struct {
	Epoch   Epoch      `json:"epoch"`
	NShards uint16     `json:"nShards"`
	Nodes   []NodeInfo `json:"nodes"`
}

// Clone returns a deep copy of c.
func (c Committee) Clone() Committee {
	nodes := make([]NodeInfo, len(c.Nodes))
	for i, n := range c.Nodes {
		nodes[i] = n.Clone()
	}
	c.Nodes = nodes
	return c
}

// MaxFaulty returns f, the number of shards that may be faulty among nShards:
// (nShards-1)/3.
func MaxFaulty(nShards uint16) int {
	if nShards == 0 {
		return 0
	}
	return (int(nShards) - 1) / 3
}

// QuorumWeight returns the least number of shards that make a quorum:
// nShards - f (2f+1 when nShards = 3f+1).
func QuorumWeight(nShards uint16) int { return int(nShards) - MaxFaulty(nShards) }

// ValidityWeight returns the least number of shards that include a correct
// one: f+1.
func ValidityWeight(nShards uint16) int { return MaxFaulty(nShards) + 1 }

// MaxFaulty returns f for the committee's shard count.
func (c *Committee) MaxFaulty() int { return MaxFaulty(c.NShards) }

// QuorumWeight returns n_shards - f.
func (c *Committee) QuorumWeight() int { return QuorumWeight(c.NShards) }

// ValidityWeight returns f + 1.
func (c *Committee) ValidityWeight() int { return ValidityWeight(c.NShards) }

// IsQuorum reports whether weight shards make a quorum.
func (c *Committee) IsQuorum(weight int) bool { return weight >= c.QuorumWeight() }

// IsAboveValidity reports whether weight shards include at least one correct
// shard.
func (c *Committee) IsAboveValidity(weight int) bool { return weight >= c.ValidityWeight() }

// ShardOwners returns, for every shard index, the index of the node holding
// it (-1 if none does, which a valid committee rules out). Callers that look
// shards up often keep the slice.
func (c *Committee) ShardOwners() []int {
	owners := make([]int, c.NShards)
	for i := range owners {
		owners[i] = -1
	}
	for i, n := range c.Nodes {
		for _, s := range n.Shards {
			if int(s) < len(owners) {
				owners[s] = i
			}
		}
	}
	return owners
}

// NodeForShard returns the index in Nodes of the node holding shard.
func (c *Committee) NodeForShard(shard uint16) (int, bool) {
	for i, n := range c.Nodes {
		if slices.Contains(n.Shards, shard) {
			return i, true
		}
	}
	return -1, false
}

// NodeIndex returns the index in Nodes of the node with the given ID.
func (c *Committee) NodeIndex(id ObjectID) (int, bool) {
	i := slices.IndexFunc(c.Nodes, func(n NodeInfo) bool { return n.ID == id })
	return i, i >= 0
}

// Weight returns the number of shards the signers hold. Signers must be
// distinct indices into Nodes; otherwise the error wraps ErrInvalidSigners.
func (c *Committee) Weight(signers []uint16) (int, error) {
	seen := make([]bool, len(c.Nodes))
	w := 0
	for _, s := range signers {
		if int(s) >= len(c.Nodes) {
			return 0, fmt.Errorf("%w: index %d, committee has %d nodes", ErrInvalidSigners, s, len(c.Nodes))
		}
		if seen[s] {
			return 0, fmt.Errorf("%w: index %d appears twice", ErrInvalidSigners, s)
		}
		seen[s] = true
		w += len(c.Nodes[s].Shards)
	}
	return w, nil
}

// Validate checks the shape of the committee: at least one node; every node
// with a non-zero ID, a distinct ID, a distinct and valid public key, and at
// least one shard; every shard in [0, NShards) held by exactly one node.
// Errors wrap ErrInvalidCommittee.
func (c *Committee) Validate() error {
	if c.NShards == 0 || len(c.Nodes) == 0 {
		return fmt.Errorf("%w: %d shards over %d nodes", ErrInvalidCommittee, c.NShards, len(c.Nodes))
	}
	owner := make([]int, c.NShards)
	for i := range owner {
		owner[i] = -1
	}
	ids := make(map[ObjectID]int, len(c.Nodes))
	keys := make(map[bls.PublicKey]int, len(c.Nodes))
	for i, n := range c.Nodes {
		if n.ID.IsZero() {
			return fmt.Errorf("%w: node %d has no ID", ErrInvalidCommittee, i)
		}
		if j, dup := ids[n.ID]; dup {
			return fmt.Errorf("%w: nodes %d and %d share ID %s", ErrInvalidCommittee, j, i, n.ID)
		}
		ids[n.ID] = i
		if j, dup := keys[n.PublicKey]; dup {
			return fmt.Errorf("%w: nodes %d and %d share a public key", ErrInvalidCommittee, j, i)
		}
		keys[n.PublicKey] = i
		if err := n.PublicKey.Validate(); err != nil {
			return fmt.Errorf("%w: node %d (%s): %w", ErrInvalidCommittee, i, n.ID, err)
		}
		if len(n.Shards) == 0 {
			return fmt.Errorf("%w: node %d (%s) holds no shard", ErrInvalidCommittee, i, n.ID)
		}
		for _, s := range n.Shards {
			if s >= c.NShards {
				return fmt.Errorf("%w: node %d holds shard %d of %d", ErrInvalidCommittee, i, s, c.NShards)
			}
			if owner[s] >= 0 {
				return fmt.Errorf("%w: shard %d held by nodes %d and %d", ErrInvalidCommittee, s, owner[s], i)
			}
			owner[s] = i
		}
	}
	for s, o := range owner {
		if o < 0 {
			return fmt.Errorf("%w: shard %d is held by no node", ErrInvalidCommittee, s)
		}
	}
	return nil
}

// AssignShards spreads nShards over nNodes in contiguous runs whose lengths
// differ by at most one, the first nodes taking the longer runs. It returns
// nil if there are fewer shards than nodes or no nodes.
func AssignShards(nShards uint16, nNodes int) [][]uint16 {
	if nNodes <= 0 || int(nShards) < nNodes {
		return nil
	}
	out := make([][]uint16, nNodes)
	base, extra := int(nShards)/nNodes, int(nShards)%nNodes
	next := 0
	for i := range out {
		n := base
		if i < extra {
			n++
		}
		out[i] = make([]uint16, n)
		for j := range out[i] {
			out[i][j] = uint16(next)
			next++
		}
	}
	return out
}

// NodeRegistration is a node with the proof of possession of its key: what a
// node submits to join a committee.
type NodeRegistration struct {
	Node              NodeInfo      `json:"node"`
	ProofOfPossession bls.Signature `json:"proofOfPossession"`
}

// NewNodeRegistration sets node's public key from key and proves possession
// of it for a registration in epoch. The Sui address in the proof is the
// node's ID (Walrus uses the registering account's address; the local ledger
// has no accounts, and the node ID names the registrant just as well).
func NewNodeRegistration(key *bls.PrivateKey, node NodeInfo, epoch Epoch) NodeRegistration {
	node.PublicKey = key.PublicKey()
	return NodeRegistration{
		Node:              node,
		ProofOfPossession: key.ProvePossession(uint32(epoch), node.ID),
	}
}

// Verify checks the proof of possession for a registration made in epoch.
// Errors wrap ErrInvalidCommittee.
func (r NodeRegistration) Verify(epoch Epoch) error {
	if err := bls.VerifyProofOfPossession(r.Node.PublicKey, uint32(epoch), r.Node.ID, r.ProofOfPossession); err != nil {
		return fmt.Errorf("%w: node %s (%q): %w", ErrInvalidCommittee, r.Node.ID, r.Node.Name, err)
	}
	return nil
}

// NewCommittee builds the committee of epoch from registrations made in
// registrationEpoch: it checks every proof of possession and the committee's
// shape. NShards is the total number of shards the nodes hold.
func NewCommittee(epoch Epoch, regs []NodeRegistration, registrationEpoch Epoch) (Committee, error) {
	c := Committee{Epoch: epoch, Nodes: make([]NodeInfo, len(regs))}
	total := 0
	for i, r := range regs {
		c.Nodes[i] = r.Node.Clone()
		total += len(r.Node.Shards)
	}
	if total > 0xffff {
		return Committee{}, fmt.Errorf("%w: %d shards, at most 65535", ErrInvalidCommittee, total)
	}
	c.NShards = uint16(total)
	if err := c.Validate(); err != nil {
		return Committee{}, err
	}
	for _, r := range regs {
		if err := r.Verify(registrationEpoch); err != nil {
			return Committee{}, err
		}
	}
	return c, nil
}
