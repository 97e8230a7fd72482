package local

import (
	"context"
	"fmt"
	"time"

	"github.com/haulout/haulout/chain"
)

// AdvanceEpoch starts the next epoch now, with the committee set by
// SetNextCommittee or else the current one, and returns its number.
func (l *Ledger) AdvanceEpoch(ctx context.Context) (chain.Epoch, error) {
	if err := l.lock(ctx); err != nil {
		return 0, err
	}
	defer l.mu.Unlock()
	return l.advanceLocked("request")
}

func (l *Ledger) advanceLocked(reason string) (chain.Epoch, error) {
	next := l.st.epoch + 1
	if next == 0 {
		return 0, fmt.Errorf("%w: epoch counter exhausted", chain.ErrInvalidEpochs)
	}
	e := l.st.newEntry(opEpoch, l.now())
	e.Epoch = next
	if l.st.next != nil {
		c := l.st.next.Clone()
		c.Epoch = next
		e.Committee = &c
	}
	e.Event = l.st.newEvent(e, chain.EventEpochChange)
	e.Event.Epoch = next
	if err := l.commit(e); err != nil {
		return 0, fmt.Errorf("advance to epoch %d: %w", next, err)
	}
	l.log.Info("epoch started", "epoch", next, "reason", reason, "committeeChanged", e.Committee != nil)
	return next, nil
}

// SetNextCommittee sets the committee that takes over at the next epoch
// change, replacing any set before. Registrations prove possession of their
// keys for the current epoch (chain.NewNodeRegistration with it); the
// committee must be well formed (chain.Committee.Validate) and hold the
// same number of shards, which never changes, as in Walrus.
func (l *Ledger) SetNextCommittee(ctx context.Context, regs []chain.NodeRegistration) (chain.Committee, error) {
	if err := l.lock(ctx); err != nil {
		return chain.Committee{}, err
	}
	defer l.mu.Unlock()
	c, err := chain.NewCommittee(l.st.epoch+1, regs, l.st.epoch)
	if err != nil {
		return chain.Committee{}, fmt.Errorf("next committee: %w", err)
	}
	if n := l.st.committee().NShards; c.NShards != n {
		return chain.Committee{}, fmt.Errorf("next committee: %w: %d shards, the system has %d", chain.ErrInvalidCommittee, c.NShards, n)
	}
	e := l.st.newEntry(opNextCommittee, l.now())
	e.Committee = &c
	if err := l.commit(e); err != nil {
		return chain.Committee{}, fmt.Errorf("next committee: %w", err)
	}
	return c.Clone(), nil
}

// startTicker advances epochs on time when EpochDuration is set.
func (l *Ledger) startTicker() {
	if l.cfg.EpochDuration <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.stopTicker = cancel
	l.tickerDone = make(chan struct{})
	go func() {
		defer close(l.tickerDone)
		l.runTicker(ctx)
	}()
}

func (l *Ledger) stopTickerAndWait() {
	if l.stopTicker == nil {
		return
	}
	l.stopTicker()
	<-l.tickerDone
}

func (l *Ledger) runTicker(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		wait, err := l.tick()
		if err != nil {
			l.log.Error("epoch clock stopped", "err", err)
			return
		}
		timer.Reset(wait)
	}
}

// tick advances the epoch if the current one has lasted EpochDuration, and
// returns how long to wait before looking again.
func (l *Ledger) tick() (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, chain.ErrClosed
	}
	due := l.st.epochStart.Add(l.cfg.EpochDuration)
	if wait := due.Sub(l.now()); wait > 0 {
		return wait, nil
	}
	if _, err := l.advanceLocked("time"); err != nil {
		return 0, err
	}
	return l.cfg.EpochDuration, nil
}
