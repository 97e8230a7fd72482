package local

import (
	"context"

	"github.com/haulout/haulout/chain"
)

// Events returns up to limit events from cursor from on (see
// chain.ClampEventLimit), or none if there are no such events yet.
func (l *Ledger) Events(ctx context.Context, from uint64, limit int) ([]chain.Event, error) {
	if err := l.rlock(ctx); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	return l.eventsLocked(from, limit), nil
}

func (l *Ledger) eventsLocked(from uint64, limit int) []chain.Event {
	n := uint64(len(l.st.events))
	if from >= n {
		return []chain.Event{}
	}
	end := min(n, from+uint64(chain.ClampEventLimit(limit)))
	return append([]chain.Event(nil), l.st.events[from:end]...)
}

// WaitEvents is Events, but blocks until there is at least one event from
// cursor from on, ctx is done, or the ledger closes (chain.ErrClosed).
func (l *Ledger) WaitEvents(ctx context.Context, from uint64, limit int) ([]chain.Event, error) {
	for {
		if err := l.rlock(ctx); err != nil {
			return nil, err
		}
		events := l.eventsLocked(from, limit)
		wake := l.notify
		l.mu.RUnlock()
		if len(events) > 0 {
			return events, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
