package publisher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/haulout/haulout/publisher/jobs"
)

// prepare runs once before the runner: the leases of this owner's previous
// run are released (that run is gone: this is its restart), so that its
// unfinished jobs are taken over at once, and stale spool files are
// removed.
func (p *Publisher) prepare(ctx context.Context) error {
	p.prepOnce.Do(func() {
		n, err := p.cfg.Jobs.ReleaseOwner(ctx, p.cfg.Owner)
		if err != nil {
			p.prepErr = fmt.Errorf("publisher: releasing the previous run's jobs: %w", err)
			return
		}
		if n > 0 {
			p.log.Info("resuming the previous run's jobs", "jobs", n)
		}
		p.sweepSpool(ctx)
		p.prune(ctx)
	})
	return p.prepErr
}

// runner takes over unfinished jobs whenever a job slot is free, every
// PollInterval, and sweeps the spool and prunes old finished jobs every
// SpoolGrace, until ctx ends.
func (p *Publisher) runner(ctx context.Context) error {
	poll := time.NewTicker(p.cfg.PollInterval)
	defer poll.Stop()
	sweep := time.NewTicker(p.cfg.SpoolGrace)
	defer sweep.Stop()
	for {
		p.takeOver(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-sweep.C:
			p.sweepSpool(ctx)
			p.prune(ctx)
		}
	}
}

// takeOver acquires unfinished jobs nobody holds (a dead publisher's, or
// this one's previous run's) while job slots are free, and starts them.
func (p *Publisher) takeOver(ctx context.Context) {
	for ctx.Err() == nil {
		select {
		case p.slots <- struct{}{}:
		default:
			return
		}
		var once sync.Once
		free := func() { once.Do(func() { <-p.slots }) }
		j, ok, err := p.cfg.Jobs.Acquire(ctx, p.cfg.Owner, p.cfg.LeaseDuration)
		if err != nil || !ok {
			free()
			if err != nil && ctx.Err() == nil {
				p.log.Warn("looking for jobs to take over", "err", err)
			}
			return
		}
		p.metrics.jobsTakenOver.Inc()
		p.log.Info("taking a job over", "job", j.ID, "state", j.State, "attempt", j.Attempts, "blob", j.BlobID)
		p.start(j, free)
	}
}

// sweepSpool removes spool files that no unfinished job needs: those of
// finished jobs, and, once older than SpoolGrace, bodies never fully
// received and files of jobs that were never created.
func (p *Publisher) sweepSpool(ctx context.Context) {
	files, err := p.spool.list()
	if err != nil {
		p.log.Warn("listing the spool", "err", err)
		return
	}
	for _, f := range files {
		old := time.Since(f.modTime) >= p.cfg.SpoolGrace
		drop := false
		switch {
		case f.partial:
			drop = old
		default:
			j, err := p.cfg.Jobs.Get(ctx, f.id)
			switch {
			case errors.Is(err, jobs.ErrNotFound), errors.Is(err, jobs.ErrInvalidArgument):
				drop = old
			case err != nil:
				p.log.Warn("checking a spool file's job", "file", f.path, "err", err)
			default:
				drop = j.State.Terminal()
			}
		}
		if drop {
			if err := p.spool.remove(f.path); err != nil {
				p.log.Warn("removing a stale spool file", "file", f.path, "err", err)
				continue
			}
			p.metrics.spoolRemoved.Inc()
			p.log.Info("removed a stale spool file", "file", f.path)
		}
	}
}

// prune deletes the finished jobs older than JobRetention.
func (p *Publisher) prune(ctx context.Context) {
	if p.cfg.JobRetention < 0 {
		return
	}
	n, err := p.cfg.Jobs.Prune(ctx, time.Now().Add(-p.cfg.JobRetention))
	if err != nil {
		p.log.Warn("pruning finished jobs", "err", err)
		return
	}
	if n > 0 {
		p.log.Info("pruned finished jobs", "jobs", n, "older_than", p.cfg.JobRetention)
	}
}
