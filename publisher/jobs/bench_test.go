package jobs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/haulout/haulout/publisher/jobs"
)

// The store's part of one upload: Create, then one Update per step and per
// node's progress. Both backends commit durably (fsync) on every write.

func BenchmarkCreate(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			be.setup(b)
			s := open(b, be.fresh(b))
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if _, err := s.Create(ctx, newJob(i), "pub-a", longLease); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkNodeProgress(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			be.setup(b)
			s := open(b, be.fresh(b))
			ctx := context.Background()
			j, err := s.Create(ctx, newJob(0), "pub-a", longLease)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				p := jobs.NodeProgress{Node: fmt.Sprint("node-", i%100), State: jobs.NodeSent, Attempts: i / 100}
				if err := s.Update(ctx, j.Lease, jobs.Change{Nodes: []jobs.NodeProgress{p}}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkAcquire(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			be.setup(b)
			s := open(b, be.fresh(b))
			ctx := context.Background()
			for i := range b.N {
				if _, err := s.Create(ctx, newJob(i), "", 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				if _, ok, err := s.Acquire(ctx, "pub-a", longLease); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
