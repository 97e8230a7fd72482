package chaintest

import (
	"context"
	"errors"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// Backend is the method set Run exercises: the one shared by the local
// ledger and its HTTP client.
type Backend interface {
	CurrentEpoch(ctx context.Context) (chain.Epoch, error)
	SystemInfo(ctx context.Context) (chain.SystemInfo, error)
	CurrentCommittee(ctx context.Context) (chain.Committee, error)
	Committee(ctx context.Context, epoch chain.Epoch) (chain.Committee, error)
	Register(ctx context.Context, req chain.RegisterRequest) (chain.BlobRecord, error)
	Certify(ctx context.Context, id chain.ObjectID, cert chain.Certificate) (chain.BlobRecord, error)
	Extend(ctx context.Context, id chain.ObjectID, epochs uint32) (chain.BlobRecord, error)
	Delete(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	SetAttribute(ctx context.Context, id chain.ObjectID, key, value string) error
	RemoveAttribute(ctx context.Context, id chain.ObjectID, key string) error
	InvalidateBlobID(ctx context.Context, cert chain.Certificate) (chain.Event, error)
	Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	BlobObjects(ctx context.Context, blobID codec.BlobID) ([]chain.BlobRecord, error)
	BlobStatus(ctx context.Context, blobID codec.BlobID) (chain.BlobStatus, error)
	Events(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
	WaitEvents(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
	AdvanceEpoch(ctx context.Context) (chain.Epoch, error)
	SetNextCommittee(ctx context.Context, regs []chain.NodeRegistration) (chain.Committee, error)
}

// Opener returns a new, empty backend whose first committee is genesis. It
// registers its own cleanup with t.
type Opener func(t *testing.T, genesis []chain.NodeRegistration) Backend

// SuiteShards are the shards per node of the suite's network: 10 shards,
// quorum 7, validity threshold 4.
var SuiteShards = []int{4, 3, 2, 1}

// Run runs the conformance suite against backends made by open.
func Run(t *testing.T, open Opener) {
	s := &suite{open: open}
	t.Run("Register", s.testRegister)
	t.Run("Certify", s.testCertify)
	t.Run("ReplayAcrossEpochs", s.testReplayAcrossEpochs)
	t.Run("Expiry", s.testExpiry)
	t.Run("Status", s.testStatus)
	t.Run("Extend", s.testExtend)
	t.Run("Delete", s.testDelete)
	t.Run("Attributes", s.testAttributes)
	t.Run("InvalidateBlobID", s.testInvalidate)
	t.Run("Events", s.testEvents)
	t.Run("NextCommittee", s.testNextCommittee)
}

type suite struct {
	open Opener
}

// env is one fresh backend with its network.
type env struct {
	t   *testing.T
	ctx context.Context
	net *Network
	b   Backend
}

func (s *suite) env(t *testing.T) *env {
	t.Helper()
	net := NewNetwork(t, SuiteShards...)
	return &env{t: t, ctx: t.Context(), net: net, b: s.open(t, net.Genesis)}
}

func (e *env) epoch() chain.Epoch {
	e.t.Helper()
	ep, err := e.b.CurrentEpoch(e.ctx)
	must(e.t, err)
	return ep
}

func (e *env) committee() chain.Committee {
	e.t.Helper()
	c, err := e.b.CurrentCommittee(e.ctx)
	must(e.t, err)
	return c
}

func (e *env) register(seed string, ahead chain.Epoch, deletable bool) chain.BlobRecord {
	e.t.Helper()
	rec, err := e.b.Register(e.ctx, Blob(seed, 1000, 10, e.epoch()+ahead, deletable))
	must(e.t, err)
	return rec
}

// certify certifies rec with a quorum of the current committee.
func (e *env) certify(rec chain.BlobRecord) chain.BlobRecord {
	e.t.Helper()
	c := e.committee()
	out, err := e.b.Certify(e.ctx, rec.ObjectID, e.net.Certificate(e.t, c, Confirmation(rec, e.epoch()), Quorum(c)...))
	must(e.t, err)
	return out
}

func (e *env) advance() chain.Epoch {
	e.t.Helper()
	ep, err := e.b.AdvanceEpoch(e.ctx)
	must(e.t, err)
	return ep
}

func (e *env) status(id codec.BlobID) chain.BlobStatus {
	e.t.Helper()
	st, err := e.b.BlobStatus(e.ctx, id)
	must(e.t, err)
	return st
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}
