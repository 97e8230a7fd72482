package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/haulout/haulout/publisher/jobs"
)

// A publisher creates a job for an upload and holds it while it works; after
// a crash, another publisher (or the restarted one) acquires the job once
// its lease has expired and carries on from the recorded state.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jobs-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// No DatabaseURL: the embedded store.
	store, err := jobs.Open(ctx, jobs.Config{Path: filepath.Join(dir, "jobs.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	// Publisher A takes an upload and gets as far as registering it...
	j, err := store.Create(ctx, jobs.NewJob{
		Size: 17, SpoolPath: filepath.Join(dir, "spool", "upload"), Options: jobs.Options{Epochs: 5},
	}, "publisher-a", 200*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = store.Update(ctx, j.Lease, jobs.Change{
		State: jobs.StateRegistered, BlobID: "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk",
		Registration: &jobs.Registration{ObjectID: "0x2a", EndEpoch: 6},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// ...then dies: it renews its lease no more.
	time.Sleep(250 * time.Millisecond)

	// Publisher B takes the job over where A left it.
	taken, ok, err := store.Acquire(ctx, "publisher-b", time.Minute)
	if err != nil || !ok {
		fmt.Println(ok, err)
		return
	}
	fmt.Println(taken.State, taken.Registration.ObjectID, "attempt", taken.Attempts)

	// A, had it only stalled, is fenced out.
	err = store.Update(ctx, j.Lease, jobs.Change{State: jobs.StateDistributing})
	fmt.Println("A may carry on:", !errors.Is(err, jobs.ErrLeaseLost))

	// B distributes, certifies and finishes.
	nodes := []jobs.NodeProgress{{Node: "node-0", State: jobs.NodeConfirmed, Attempts: 1}}
	for _, c := range []jobs.Change{
		{State: jobs.StateDistributing, Nodes: nodes},
		{State: jobs.StateCertified, Certificate: &jobs.Certificate{Epoch: 1, Signers: []uint16{0}, Weight: 1}},
		{State: jobs.StateDone},
	} {
		if err := store.Update(ctx, taken.Lease, c); err != nil {
			fmt.Println(err)
			return
		}
	}
	done, err := store.Get(ctx, j.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(done.State, done.Nodes[0].Node, done.Nodes[0].State, "held:", done.Lease.Owner != "")
	// Output:
	// registered 0x2a attempt 2
	// A may carry on: false
	// done node-0 confirmed held: false
}
