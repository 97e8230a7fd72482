package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"

	"github.com/haulout/haulout/publisher/jobs"
)

// The suite: every case runs against every backend, each on a database of
// its own.
var suite = []struct {
	name string
	run  func(t *testing.T, b backend)
}{
	{"CreateGetUpdate", testCreateGetUpdate},
	{"CreateRefusals", testCreateRefusals},
	{"Transitions", testTransitions},
	{"NonHolderRefused", testNonHolderRefused},
	{"LeaseExclusive", testLeaseExclusive},
	{"TakeoverAfterExpiry", testTakeoverAfterExpiry},
	{"RenewAndRelease", testRenewAndRelease},
	{"ReleaseOwner", testReleaseOwner},
	{"FinishedNotAcquired", testFinishedNotAcquired},
	{"Restart", testRestart},
	{"MigrationsIdempotent", testMigrationsIdempotent},
	{"MigrationsDownUp", testMigrationsDownUp},
	{"ListPages", testListPages},
	{"Prune", testPrune},
}

func TestStore(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			b.setup(t)
			for _, c := range suite {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b)
				})
			}
		})
	}
}

const (
	longLease  = time.Minute
	shortLease = 500 * time.Millisecond
)

func open(t testing.TB, cfg jobs.Config) *jobs.Store {
	t.Helper()
	s, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newJob(i int) jobs.NewJob {
	return jobs.NewJob{
		Size:      int64(1000 + i),
		SpoolPath: fmt.Sprintf("/spool/%d", i),
		Options:   jobs.Options{Epochs: 5, Permanent: true, SendObjectTo: "0xabc"},
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func equal(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// firstPage lists the first page of jobs.
func firstPage(t testing.TB, s *jobs.Store) []jobs.Job {
	t.Helper()
	js, _, err := s.List(context.Background(), jobs.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func testCreateGetUpdate(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	n := newJob(1)
	n.Options.Attributes = map[string]string{"_walrusBlobType": "quilt"}
	j := must[jobs.Job](t)(s.Create(ctx, n, "pub-a", longLease))
	if len(j.ID) != 36 || j.State != jobs.StateReceived || j.Attempts != 1 || j.Size != 1001 ||
		j.SpoolPath != "/spool/1" || !reflect.DeepEqual(j.Options, n.Options) {
		t.Fatalf("created %+v", j)
	}
	l := j.Lease
	if l.Job != j.ID || l.Owner != "pub-a" || l.Token != 1 || l.Expires.Sub(j.Created) != longLease {
		t.Fatalf("lease %+v of job created at %v", l, j.Created)
	}
	equal(t, "get after create", must[jobs.Job](t)(s.Get(ctx, j.ID)), j)

	const blobID = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"
	reg := &jobs.Registration{
		ObjectID: "0x" + fmt.Sprintf("%064x", 7), Event: jobs.Event{TxDigest: "9xQ", EventSeq: 2},
		RegisteredEpoch: 3, EndEpoch: 8, EncodedSize: 66034000, Deletable: false, Cost: 132300,
	}
	cert := &jobs.Certificate{Epoch: 3, Event: jobs.Event{TxDigest: "7aB", EventSeq: 0}, Signers: []uint16{0, 2, 3}, Weight: 7}
	result := json.RawMessage(`{"newlyCreated": {"blobObject": {"id": "0x07", "size": 1001}, "cost": 132300}}`)
	steps := []jobs.Change{
		{State: jobs.StateEncoded, BlobID: blobID},
		{State: jobs.StateRegistered, Registration: reg},
		{State: jobs.StateDistributing, Nodes: []jobs.NodeProgress{
			{Node: "n1", State: jobs.NodePending}, {Node: "n0", State: jobs.NodePending}, {Node: "n2", State: jobs.NodePending},
		}},
		{Nodes: []jobs.NodeProgress{{Node: "n0", State: jobs.NodeConfirmed, Attempts: 1}}},
		{Error: "n1: connection refused", Nodes: []jobs.NodeProgress{{Node: "n1", State: jobs.NodePending, Attempts: 1, LastError: "connection refused"}}},
		{State: jobs.StateCertified, Certificate: cert, Result: result},
	}
	for i, c := range steps {
		if err := s.Update(ctx, l, c); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got := must[jobs.Job](t)(s.Get(ctx, j.ID))
	if got.State != jobs.StateCertified || got.BlobID != blobID || got.LastError != "n1: connection refused" ||
		got.Attempts != 1 || got.Lease != l || got.Failure != "" {
		t.Fatalf("after updates: %+v", got)
	}
	equal(t, "registration", got.Registration, reg)
	equal(t, "certificate", got.Certificate, cert)
	if string(got.Result) != string(result) {
		t.Fatalf("result %s, want it verbatim: %s", got.Result, result)
	}
	if !got.Updated.After(j.Updated) && !got.Updated.Equal(j.Updated) {
		t.Fatalf("updated %v before created %v", got.Updated, j.Updated)
	}
	var nodes []string
	for _, p := range got.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s %s %d %q", p.Node, p.State, p.Attempts, p.LastError))
		if p.Updated.IsZero() {
			t.Errorf("node %s has no update time", p.Node)
		}
	}
	equal(t, "nodes", nodes, []string{
		`n0 confirmed 1 ""`, `n1 pending 1 "connection refused"`, `n2 pending 0 ""`,
	})

	// Done ends the lease; the job changes no more.
	if err := s.Update(ctx, l, jobs.Change{State: jobs.StateDone, Nodes: []jobs.NodeProgress{
		{Node: "n1", State: jobs.NodeSent, Attempts: 2}, {Node: "n2", State: jobs.NodeGivenUp, Attempts: 5, LastError: "timeout"},
	}}); err != nil {
		t.Fatal(err)
	}
	done := must[jobs.Job](t)(s.Get(ctx, j.ID))
	if done.State != jobs.StateDone || done.Lease != (jobs.Lease{}) || done.Nodes[2].State != jobs.NodeGivenUp {
		t.Fatalf("done: %+v", done)
	}
	wantErr(t, "update after done", s.Update(ctx, l, jobs.Change{Error: "late"}), jobs.ErrFinished)
	_, err := s.Renew(ctx, l, longLease)
	wantErr(t, "renew after done", err, jobs.ErrFinished)
	equal(t, "job after refused changes", must[jobs.Job](t)(s.Get(ctx, j.ID)), done)
}

func testCreateRefusals(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	n := newJob(1)
	n.ID = "upload_42-a"
	j := must[jobs.Job](t)(s.Create(ctx, n, "", 0))
	if j.ID != n.ID || j.Attempts != 0 || j.Lease != (jobs.Lease{}) {
		t.Fatalf("created without owner: %+v", j)
	}
	_, err := s.Create(ctx, n, "pub-a", longLease)
	wantErr(t, "same ID twice", err, jobs.ErrExists)

	_, err = s.Get(ctx, "no-such-job")
	wantErr(t, "get unknown", err, jobs.ErrNotFound)
	_, err = s.Get(ctx, "../etc")
	wantErr(t, "get malformed", err, jobs.ErrNotFound)
	err = s.Update(ctx, jobs.Lease{Job: "no-such-job", Owner: "pub-a", Token: 1}, jobs.Change{})
	wantErr(t, "update unknown", err, jobs.ErrNotFound)

	for name, c := range map[string]struct {
		n     jobs.NewJob
		owner string
		lease time.Duration
	}{
		"bad ID":        {jobs.NewJob{ID: "a/b", SpoolPath: "/s"}, "", 0},
		"long ID":       {jobs.NewJob{ID: string(make([]byte, 65)), SpoolPath: "/s"}, "", 0},
		"negative size": {jobs.NewJob{Size: -1, SpoolPath: "/s"}, "", 0},
		"no spool":      {jobs.NewJob{}, "", 0},
		"no lease":      {jobs.NewJob{SpoolPath: "/s"}, "pub-a", 0},
	} {
		_, err := s.Create(ctx, c.n, c.owner, c.lease)
		wantErr(t, name, err, jobs.ErrInvalidArgument)
	}
	_, _, err = s.Acquire(ctx, "", longLease)
	wantErr(t, "acquire without owner", err, jobs.ErrInvalidArgument)
	_, _, err = s.List(ctx, jobs.ListOptions{Limit: jobs.MaxLimit + 1})
	wantErr(t, "list limit", err, jobs.ErrInvalidArgument)
	_, _, err = s.List(ctx, jobs.ListOptions{States: []jobs.State{"lost"}})
	wantErr(t, "list state", err, jobs.ErrInvalidArgument)
}

func testTransitions(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	j := must[jobs.Job](t)(s.Create(ctx, newJob(1), "pub-a", longLease))
	l := j.Lease
	if err := s.Update(ctx, l, jobs.Change{State: jobs.StateRegistered, BlobID: "blob-1"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "backwards", s.Update(ctx, l, jobs.Change{State: jobs.StateEncoded}), jobs.ErrInvalidTransition)
	wantErr(t, "new blob ID", s.Update(ctx, l, jobs.Change{BlobID: "blob-2"}), jobs.ErrInvalidTransition)
	wantErr(t, "unknown state", s.Update(ctx, l, jobs.Change{State: "lost"}), jobs.ErrInvalidArgument)
	wantErr(t, "fail without reason", s.Update(ctx, l, jobs.Change{State: jobs.StateFailed}), jobs.ErrInvalidArgument)
	wantErr(t, "bad result", s.Update(ctx, l, jobs.Change{Result: json.RawMessage(`{`)}), jobs.ErrInvalidArgument)
	wantErr(t, "node twice", s.Update(ctx, l, jobs.Change{Nodes: []jobs.NodeProgress{
		{Node: "n0", State: jobs.NodeSent}, {Node: "n0", State: jobs.NodeConfirmed},
	}}), jobs.ErrInvalidArgument)
	wantErr(t, "bad node state", s.Update(ctx, l, jobs.Change{Nodes: []jobs.NodeProgress{{Node: "n0", State: "lost"}}}), jobs.ErrInvalidArgument)
	// A refused change leaves nothing behind, the same blob ID again is fine.
	if err := s.Update(ctx, l, jobs.Change{BlobID: "blob-1", State: jobs.StateRegistered}); err != nil {
		t.Fatal(err)
	}
	if got := must[jobs.Job](t)(s.Get(ctx, j.ID)); got.State != jobs.StateRegistered || got.BlobID != "blob-1" || got.Nodes != nil {
		t.Fatalf("after refusals: %+v", got)
	}

	// Skipping ahead is allowed (a blob already certified).
	k := must[jobs.Job](t)(s.Create(ctx, newJob(2), "pub-a", longLease))
	if err := s.Update(ctx, k.Lease, jobs.Change{State: jobs.StateEncoded, BlobID: "blob-k"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, k.Lease, jobs.Change{State: jobs.StateDone, Result: json.RawMessage(`{"alreadyCertified":{}}`)}); err != nil {
		t.Fatal(err)
	}

	// Failing keeps the reason, ends the lease, and is final.
	if err := s.Fail(ctx, l, "registration: insufficient funds"); err != nil {
		t.Fatal(err)
	}
	f := must[jobs.Job](t)(s.Get(ctx, j.ID))
	if f.State != jobs.StateFailed || f.Failure != "registration: insufficient funds" ||
		f.LastError != f.Failure || f.Lease != (jobs.Lease{}) {
		t.Fatalf("failed: %+v", f)
	}
	wantErr(t, "fail twice", s.Fail(ctx, l, "again"), jobs.ErrFinished)
}

func testNonHolderRefused(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	j := must[jobs.Job](t)(s.Create(ctx, newJob(1), "pub-a", longLease))
	for name, l := range map[string]jobs.Lease{
		"other owner": {Job: j.ID, Owner: "pub-b", Token: j.Lease.Token},
		"older token": {Job: j.ID, Owner: "pub-a", Token: j.Lease.Token - 1},
		"newer token": {Job: j.ID, Owner: "pub-a", Token: j.Lease.Token + 1},
	} {
		err := s.Update(ctx, l, jobs.Change{State: jobs.StateEncoded, BlobID: "x"})
		var le *jobs.LeaseError
		if !errors.As(err, &le) || !errors.Is(err, jobs.ErrLeaseLost) {
			t.Fatalf("%s: got %v, want a *LeaseError", name, err)
		}
		if le.Holder != "pub-a" || le.HolderToken != j.Lease.Token || !le.Expires.Equal(j.Lease.Expires) || le.Owner != l.Owner {
			t.Fatalf("%s: %+v", name, le)
		}
		_, err = s.Renew(ctx, l, longLease)
		wantErr(t, name+": renew", err, jobs.ErrLeaseLost)
		wantErr(t, name+": release", s.Release(ctx, l), jobs.ErrLeaseLost)
		wantErr(t, name+": fail", s.Fail(ctx, l, "not mine"), jobs.ErrLeaseLost)
	}
	got := must[jobs.Job](t)(s.Get(ctx, j.ID))
	equal(t, "job after refused changes", got, j)
}

// testLeaseExclusive has many publishers (stores, each with its own
// connections) of many goroutines take jobs at once: each job goes to one.
func testLeaseExclusive(t *testing.T, b backend) {
	ctx := context.Background()
	cfg := b.fresh(t)
	const (
		nJobs       = 60
		nStores     = 4
		perStore    = 6
		nGoroutines = nStores * perStore
	)
	stores := make([]*jobs.Store, nStores)
	for i := range stores {
		stores[i] = open(t, cfg)
	}
	for i := range nJobs {
		must[jobs.Job](t)(stores[0].Create(ctx, newJob(i), "", 0))
	}

	var (
		mu     sync.Mutex
		holder = map[string]jobs.Lease{}
		errs   []error
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for g := range nGoroutines {
		s, owner := stores[g%nStores], fmt.Sprintf("pub-%d", g)
		wg.Go(func() {
			<-start
			for {
				j, ok, err := s.Acquire(ctx, owner, longLease)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case ok:
					if prev, dup := holder[j.ID]; dup {
						errs = append(errs, fmt.Errorf("job %s went to %s and %s", j.ID, prev.Owner, owner))
					}
					holder[j.ID] = j.Lease
				}
				mu.Unlock()
				if !ok || err != nil {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	if len(holder) != nJobs {
		t.Fatalf("%d jobs acquired, want %d", len(holder), nJobs)
	}
	// The store agrees, and only each job's holder may change it.
	i := 0
	for id, l := range holder {
		j := must[jobs.Job](t)(stores[i%nStores].Get(ctx, id))
		if j.Lease != l || j.Attempts != 1 {
			t.Fatalf("job %s: lease %+v, attempts %d; acquired as %+v", id, j.Lease, j.Attempts, l)
		}
		other := jobs.Lease{Job: id, Owner: fmt.Sprintf("pub-%d", (i+1)%nGoroutines), Token: l.Token}
		if other.Owner == l.Owner {
			other.Owner = "pub-x"
		}
		wantErr(t, "update by another publisher", stores[i%nStores].Update(ctx, other, jobs.Change{State: jobs.StateEncoded}), jobs.ErrLeaseLost)
		if err := stores[(i+1)%nStores].Update(ctx, l, jobs.Change{State: jobs.StateEncoded, BlobID: "b-" + id}); err != nil {
			t.Fatal(err)
		}
		i++
	}
	if _, ok, err := stores[0].Acquire(ctx, "late", longLease); ok || err != nil {
		t.Fatalf("acquire with every job held: ok %v, err %v", ok, err)
	}
}

// testTakeoverAfterExpiry: a publisher stops renewing (it died); once its
// lease expires another takes the job over, and the first is fenced out.
func testTakeoverAfterExpiry(t *testing.T, b backend) {
	ctx := context.Background()
	cfg := b.fresh(t)
	a, bStore := open(t, cfg), open(t, cfg)

	must[jobs.Job](t)(a.Create(ctx, newJob(1), "", 0))
	ja, ok, err := a.Acquire(ctx, "pub-a", shortLease)
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	la := ja.Lease
	if err := a.Update(ctx, la, jobs.Change{State: jobs.StateRegistered, BlobID: "blob-1",
		Registration: &jobs.Registration{ObjectID: "0x01", EndEpoch: 4}}); err != nil {
		t.Fatal(err)
	}
	if time.Until(la.Expires) > 100*time.Millisecond {
		if _, ok, err := bStore.Acquire(ctx, "pub-b", longLease); ok || err != nil {
			t.Fatalf("acquire while the lease runs: ok %v, err %v", ok, err)
		}
		if exp := must[[]jobs.Job](t)(bStore.Expired(ctx, 0)); len(exp) != 0 {
			t.Fatalf("expired while the lease runs: %+v", exp)
		}
	}

	time.Sleep(time.Until(la.Expires) + 50*time.Millisecond)
	// Expired, not yet taken: the old holder is already refused.
	err = a.Update(ctx, la, jobs.Change{State: jobs.StateDistributing})
	var le *jobs.LeaseError
	if !errors.As(err, &le) || le.Holder != "pub-a" {
		t.Fatalf("update after expiry: %v", err)
	}
	_, err = a.Renew(ctx, la, longLease)
	wantErr(t, "renew after expiry", err, jobs.ErrLeaseLost)
	exp := must[[]jobs.Job](t)(bStore.Expired(ctx, 0))
	if len(exp) != 1 || exp[0].ID != ja.ID || exp[0].Lease.Owner != "pub-a" {
		t.Fatalf("expired: %+v", exp)
	}

	jb, ok, err := bStore.Acquire(ctx, "pub-b", longLease)
	if err != nil || !ok || jb.ID != ja.ID {
		t.Fatalf("takeover: %+v %v %v", jb, ok, err)
	}
	if jb.Attempts != 2 || jb.Lease.Token <= la.Token || jb.Lease.Owner != "pub-b" ||
		jb.State != jobs.StateRegistered || jb.BlobID != "blob-1" || jb.Registration.ObjectID != "0x01" {
		t.Fatalf("taken over: %+v", jb)
	}
	if acquired := jb.Lease.Expires.Add(-longLease); acquired.Before(la.Expires) {
		t.Fatalf("taken over at %v, before the lease expired at %v", acquired, la.Expires)
	}
	if exp := must[[]jobs.Job](t)(bStore.Expired(ctx, 0)); len(exp) != 0 {
		t.Fatalf("expired after takeover: %+v", exp)
	}
	// The old holder is fenced out, even under the new holder's name.
	err = a.Update(ctx, la, jobs.Change{State: jobs.StateDistributing})
	if !errors.As(err, &le) || le.Holder != "pub-b" {
		t.Fatalf("old holder after takeover: %v", err)
	}
	wantErr(t, "old token, new name", a.Update(ctx, jobs.Lease{Job: ja.ID, Owner: "pub-b", Token: la.Token}, jobs.Change{}), jobs.ErrLeaseLost)
	// The new holder finishes the job.
	if err := bStore.Update(ctx, jb.Lease, jobs.Change{State: jobs.StateDone}); err != nil {
		t.Fatal(err)
	}
}

func testRenewAndRelease(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	j := must[jobs.Job](t)(s.Create(ctx, newJob(1), "pub-a", shortLease))
	l := j.Lease
	// Renewing before expiry keeps the job past its first lease.
	for range 3 {
		time.Sleep(shortLease / 3)
		nl, err := s.Renew(ctx, l, shortLease)
		if err != nil {
			t.Fatal(err)
		}
		if nl.Token != l.Token || nl.Owner != l.Owner || !nl.Expires.After(l.Expires) {
			t.Fatalf("renewed %+v from %+v", nl, l)
		}
		l = nl
	}
	if !time.Now().After(j.Lease.Expires) {
		t.Fatal("test too fast: the first lease has not run out")
	}
	if _, ok, err := s.Acquire(ctx, "pub-b", longLease); ok || err != nil {
		t.Fatalf("acquire of a renewed job: ok %v, err %v", ok, err)
	}
	if err := s.Update(ctx, l, jobs.Change{State: jobs.StateEncoded, BlobID: "b"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Renew(ctx, l, 0)
	wantErr(t, "renew for 0", err, jobs.ErrInvalidArgument)

	// Release: another publisher may take the job at once.
	if err := s.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got := must[jobs.Job](t)(s.Get(ctx, j.ID)); got.Lease != (jobs.Lease{}) || got.State != jobs.StateEncoded {
		t.Fatalf("released: %+v", got)
	}
	err = s.Update(ctx, l, jobs.Change{})
	var le *jobs.LeaseError
	if !errors.As(err, &le) || le.Holder != "" {
		t.Fatalf("update after release: %v", err)
	}
	jb, ok, err := s.Acquire(ctx, "pub-b", longLease)
	if err != nil || !ok || jb.ID != j.ID || jb.Lease.Token != l.Token+1 || jb.Attempts != 2 {
		t.Fatalf("acquire after release: %+v %v %v", jb, ok, err)
	}
}

func testReleaseOwner(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	var mine []jobs.Job
	for i := range 3 {
		mine = append(mine, must[jobs.Job](t)(s.Create(ctx, newJob(i), "pub-a", longLease)))
	}
	other := must[jobs.Job](t)(s.Create(ctx, newJob(9), "pub-b", longLease))
	if err := s.Update(ctx, mine[2].Lease, jobs.Change{State: jobs.StateDone}); err != nil {
		t.Fatal(err)
	}
	if n := must[int](t)(s.ReleaseOwner(ctx, "pub-a")); n != 2 {
		t.Fatalf("released %d leases, want 2", n)
	}
	var got []string
	for {
		j, ok, err := s.Acquire(ctx, "pub-a", longLease)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, j.ID)
	}
	equal(t, "acquired after ReleaseOwner", got, []string{mine[0].ID, mine[1].ID})
	if j := must[jobs.Job](t)(s.Get(ctx, other.ID)); j.Lease != other.Lease {
		t.Fatalf("another owner's lease changed: %+v", j.Lease)
	}
}

func testFinishedNotAcquired(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	done := must[jobs.Job](t)(s.Create(ctx, newJob(1), "pub-a", shortLease))
	failed := must[jobs.Job](t)(s.Create(ctx, newJob(2), "pub-a", shortLease))
	if err := s.Update(ctx, done.Lease, jobs.Change{State: jobs.StateDone}); err != nil {
		t.Fatal(err)
	}
	if err := s.Fail(ctx, failed.Lease, "spool file lost"); err != nil {
		t.Fatal(err)
	}
	// Past the leases they had: still never taken.
	time.Sleep(time.Until(done.Lease.Expires) + 50*time.Millisecond)
	if j, ok, err := s.Acquire(ctx, "pub-b", longLease); ok || err != nil {
		t.Fatalf("acquired a finished job: %+v %v", j, err)
	}
	if exp := must[[]jobs.Job](t)(s.Expired(ctx, 0)); len(exp) != 0 {
		t.Fatalf("finished jobs listed as expired: %+v", exp)
	}
	open := must[jobs.Job](t)(s.Create(ctx, newJob(3), "", 0))
	if j, ok, err := s.Acquire(ctx, "pub-b", longLease); !ok || err != nil || j.ID != open.ID {
		t.Fatalf("acquire: %+v %v %v, want %s", j, ok, err, open.ID)
	}
}

// testRestart closes the store and opens it again: jobs, progress and
// leases persist, and a holder carries on with its lease.
func testRestart(t *testing.T, b backend) {
	ctx := context.Background()
	cfg := b.fresh(t)
	s, err := jobs.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	j := must[jobs.Job](t)(s.Create(ctx, newJob(1), "pub-a", longLease))
	if err := s.Update(ctx, j.Lease, jobs.Change{State: jobs.StateDistributing, BlobID: "blob-1",
		Registration: &jobs.Registration{ObjectID: "0x01"},
		Nodes:        []jobs.NodeProgress{{Node: "n0", State: jobs.NodeSent, Attempts: 1}}}); err != nil {
		t.Fatal(err)
	}
	waiting := must[jobs.Job](t)(s.Create(ctx, newJob(2), "", 0))
	before := firstPage(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, cfg)
	equal(t, "jobs after restart", firstPage(t, s), before)
	if err := s.Update(ctx, j.Lease, jobs.Change{State: jobs.StateCertified}); err != nil {
		t.Fatalf("the holder after restart: %v", err)
	}
	if got, ok, err := s.Acquire(ctx, "pub-b", longLease); !ok || err != nil || got.ID != waiting.ID {
		t.Fatalf("acquire after restart: %+v %v %v", got, ok, err)
	}
}

// testMigrationsIdempotent opens one database again and again, and from
// several stores at once: the schema is migrated once and stays clean.
func testMigrationsIdempotent(t *testing.T, b backend) {
	ctx := context.Background()
	cfg := b.fresh(t)

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := jobs.Open(ctx, cfg)
			if err == nil {
				_, err = s.Create(ctx, newJob(i), "", 0)
				err = errors.Join(err, s.Close())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("opening a new database from 4 stores at once: %v", err)
	}
	v1, dirty := schemaVersion(t, b, cfg)
	if v1 < 1 || dirty {
		t.Fatalf("schema version %d, dirty %v", v1, dirty)
	}
	for range 2 {
		s := open(t, cfg)
		if js, _, err := s.List(ctx, jobs.ListOptions{}); err != nil || len(js) != 4 {
			t.Fatalf("reopened: %d jobs, %v", len(js), err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if v, dirty := schemaVersion(t, b, cfg); v != v1 || dirty {
			t.Fatalf("reopening changed the schema version from %d to %d (dirty %v)", v1, v, dirty)
		}
	}
}

// testMigrationsDownUp runs every down migration and up again, so that the
// down files work too.
func testMigrationsDownUp(t *testing.T, b backend) {
	ctx := context.Background()
	cfg := b.fresh(t)
	s := open(t, cfg)
	must[jobs.Job](t)(s.Create(ctx, newJob(1), "", 0))
	s.Close()

	m := migrator(t, b, cfg)
	if err := m.Down(); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, _, err := m.Version(); !errors.Is(err, migrate.ErrNilVersion) {
		t.Fatalf("version after down: %v", err)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	s = open(t, cfg)
	if js, _, err := s.List(ctx, jobs.ListOptions{}); err != nil || len(js) != 0 {
		t.Fatalf("after down and up: %d jobs, %v", len(js), err)
	}
	must[jobs.Job](t)(s.Create(ctx, newJob(1), "", 0))
}

func testListPages(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	var ids, encoded []string
	for i := range 25 {
		j := must[jobs.Job](t)(s.Create(ctx, newJob(i), "pub-a", longLease))
		ids = append(ids, j.ID)
		if i%3 == 0 {
			if err := s.Update(ctx, j.Lease, jobs.Change{State: jobs.StateEncoded, BlobID: fmt.Sprint("b", i),
				Nodes: []jobs.NodeProgress{{Node: "n0", State: jobs.NodeSent}}}); err != nil {
				t.Fatal(err)
			}
			encoded = append(encoded, j.ID)
		}
	}
	page := func(o jobs.ListOptions) (all []string, pages int) {
		for {
			js, next, err := s.List(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				all = append(all, j.ID)
				if j.State == jobs.StateEncoded && len(j.Nodes) != 1 {
					t.Fatalf("listed job %s without its nodes", j.ID)
				}
			}
			pages++
			if next == "" {
				return all, pages
			}
			o.After = next
		}
	}
	all, pages := page(jobs.ListOptions{Limit: 10})
	equal(t, "all jobs in creation order", all, ids)
	if pages != 3 {
		t.Fatalf("%d pages of 10 for 25 jobs", pages)
	}
	all, pages = page(jobs.ListOptions{Limit: 9, States: []jobs.State{jobs.StateEncoded}})
	equal(t, "encoded jobs", all, encoded)
	if pages != 1 {
		t.Fatalf("%d pages of 9 for 9 jobs", pages)
	}
	all, _ = page(jobs.ListOptions{States: []jobs.State{jobs.StateDone, jobs.StateFailed}})
	if len(all) != 0 {
		t.Fatalf("finished jobs: %v", all)
	}
}

func testPrune(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.fresh(t))

	old := must[jobs.Job](t)(s.Create(ctx, newJob(1), "pub-a", longLease))
	if err := s.Update(ctx, old.Lease, jobs.Change{State: jobs.StateDone, Nodes: []jobs.NodeProgress{{Node: "n0", State: jobs.NodeConfirmed}}}); err != nil {
		t.Fatal(err)
	}
	running := must[jobs.Job](t)(s.Create(ctx, newJob(2), "pub-a", longLease))
	time.Sleep(10 * time.Millisecond)
	cut := time.Now()
	time.Sleep(10 * time.Millisecond)
	recent := must[jobs.Job](t)(s.Create(ctx, newJob(3), "pub-a", longLease))
	if err := s.Fail(ctx, recent.Lease, "gave up"); err != nil {
		t.Fatal(err)
	}
	if n := must[int](t)(s.Prune(ctx, cut)); n != 1 {
		t.Fatalf("pruned %d, want 1", n)
	}
	_, err := s.Get(ctx, old.ID)
	wantErr(t, "pruned job", err, jobs.ErrNotFound)
	for _, id := range []string{running.ID, recent.ID} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}
