package chain

import (
	"errors"
	"slices"
	"testing"

	"github.com/haulout/haulout/bls"
)

func TestThresholds(t *testing.T) {
	tests := []struct {
		nShards                 uint16
		f, quorum, validity     int
		contractQuorumMinWeight int // least w with 3w >= 2n+1 (walrus::bls_aggregate)
	}{
		{1, 0, 1, 1, 1},
		{4, 1, 3, 2, 3},
		{5, 1, 4, 2, 4},
		{6, 1, 5, 2, 5},
		{7, 2, 5, 3, 5},
		{10, 3, 7, 4, 7},
		{100, 33, 67, 34, 67},
		{300, 99, 201, 100, 201},
		{1000, 333, 667, 334, 667},
	}
	for _, tt := range tests {
		c := Committee{NShards: tt.nShards}
		if got := c.MaxFaulty(); got != tt.f {
			t.Errorf("n=%d: f = %d, want %d", tt.nShards, got, tt.f)
		}
		if got := c.QuorumWeight(); got != tt.quorum {
			t.Errorf("n=%d: quorum = %d, want %d", tt.nShards, got, tt.quorum)
		}
		if got := c.ValidityWeight(); got != tt.validity {
			t.Errorf("n=%d: validity = %d, want %d", tt.nShards, got, tt.validity)
		}
		if tt.quorum != tt.contractQuorumMinWeight {
			t.Errorf("n=%d: quorum %d differs from the contract's %d", tt.nShards, tt.quorum, tt.contractQuorumMinWeight)
		}
		if c.IsQuorum(tt.quorum-1) || !c.IsQuorum(tt.quorum) {
			t.Errorf("n=%d: IsQuorum boundary wrong", tt.nShards)
		}
		if c.IsAboveValidity(tt.validity-1) || !c.IsAboveValidity(tt.validity) {
			t.Errorf("n=%d: IsAboveValidity boundary wrong", tt.nShards)
		}
	}
	// The quorum equals the contract's rule for every shard count.
	for n := 1; n <= 0xffff; n++ {
		q := QuorumWeight(uint16(n))
		if 3*q < 2*n+1 || 3*(q-1) >= 2*n+1 {
			t.Fatalf("n=%d: quorum %d is not the least w with 3w >= 2n+1", n, q)
		}
	}
}

func TestAssignShardsAndLookup(t *testing.T) {
	got := AssignShards(10, 3)
	want := [][]uint16{{0, 1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("AssignShards(10, 3) = %v, want %v", got, want)
	}
	if AssignShards(2, 3) != nil || AssignShards(2, 0) != nil {
		t.Fatal("impossible assignment returned shards")
	}

	c, _ := testCommittee(t, 1, 4, 3, 3)
	owners := c.ShardOwners()
	for s, o := range owners {
		i, ok := c.NodeForShard(uint16(s))
		if !ok || i != o {
			t.Fatalf("shard %d: NodeForShard = %d, %v; ShardOwners = %d", s, i, ok, o)
		}
	}
	if _, ok := c.NodeForShard(10); ok {
		t.Fatal("shard out of range found")
	}
	if i, ok := c.NodeIndex(c.Nodes[2].ID); !ok || i != 2 {
		t.Fatalf("NodeIndex = %d, %v", i, ok)
	}
}

func TestWeight(t *testing.T) {
	c, _ := testCommittee(t, 1, 4, 3, 3)
	tests := []struct {
		signers []uint16
		want    int
		err     error
	}{
		{nil, 0, nil},
		{[]uint16{0}, 4, nil},
		{[]uint16{2, 0}, 7, nil},
		{[]uint16{0, 1, 2}, 10, nil},
		{[]uint16{0, 0}, 0, ErrInvalidSigners},
		{[]uint16{3}, 0, ErrInvalidSigners},
	}
	for _, tt := range tests {
		w, err := c.Weight(tt.signers)
		if !errors.Is(err, tt.err) || (tt.err == nil && w != tt.want) {
			t.Errorf("Weight(%v) = %d, %v; want %d, %v", tt.signers, w, err, tt.want, tt.err)
		}
	}
}

func TestCommitteeValidate(t *testing.T) {
	good, keys := testCommittee(t, 1, 2, 2)
	mutate := func(f func(c *Committee)) Committee {
		c := good.Clone()
		f(&c)
		return c
	}
	tests := map[string]Committee{
		"no nodes":        mutate(func(c *Committee) { c.Nodes = nil }),
		"zero shards":     mutate(func(c *Committee) { c.NShards = 0 }),
		"shard missing":   mutate(func(c *Committee) { c.NShards = 5 }),
		"shard twice":     mutate(func(c *Committee) { c.Nodes[1].Shards[0] = 0 }),
		"shard too large": mutate(func(c *Committee) { c.Nodes[1].Shards[1] = 4 }),
		"empty node":      mutate(func(c *Committee) { c.Nodes[1].Shards = nil; c.NShards = 2 }),
		"duplicate id":    mutate(func(c *Committee) { c.Nodes[1].ID = c.Nodes[0].ID }),
		"zero id":         mutate(func(c *Committee) { c.Nodes[0].ID = ObjectID{} }),
		"duplicate key":   mutate(func(c *Committee) { c.Nodes[1].PublicKey = c.Nodes[0].PublicKey }),
		"invalid key":     mutate(func(c *Committee) { c.Nodes[1].PublicKey = bls.PublicKey{} }),
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good committee: %v", err)
	}
	for name, c := range tests {
		if err := c.Validate(); !errors.Is(err, ErrInvalidCommittee) {
			t.Errorf("%s: %v, want ErrInvalidCommittee", name, err)
		}
	}

	// Proofs of possession: for the registration epoch and the node's ID.
	node := good.Nodes[0]
	reg := NewNodeRegistration(keys[0], node, 3)
	if err := reg.Verify(3); err != nil {
		t.Fatal(err)
	}
	if err := reg.Verify(4); !errors.Is(err, ErrInvalidCommittee) {
		t.Fatalf("proof for another epoch: %v", err)
	}
	stolen := reg
	stolen.Node.ID = ObjectID{31: 99}
	if err := stolen.Verify(3); !errors.Is(err, ErrInvalidCommittee) {
		t.Fatalf("proof for another node: %v", err)
	}
	rogue := reg
	rogue.Node.PublicKey = good.Nodes[1].PublicKey
	if _, err := NewCommittee(4, []NodeRegistration{rogue, NewNodeRegistration(keys[1], good.Nodes[1], 3)}, 3); !errors.Is(err, ErrInvalidCommittee) {
		t.Fatalf("committee with a key without proof: %v", err)
	}
}
