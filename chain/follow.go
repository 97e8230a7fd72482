package chain

import (
	"context"
	"fmt"
)

// EventWaiter is what Follow needs from a backend: WaitEvents blocks until at
// least one event at or after from exists (or ctx is done) and returns up to
// limit of them, in order.
type EventWaiter interface {
	WaitEvents(ctx context.Context, from uint64, limit int) ([]Event, error)
}

// Follow feeds handle every event from cursor from on, in order, until ctx is
// done or handle fails. It returns the cursor to resume from: the Cursor+1 of
// the last event handled successfully. Storage nodes persist that cursor to
// resume after a restart.
func Follow(ctx context.Context, src EventWaiter, from uint64, limit int, handle func(context.Context, Event) error) (uint64, error) {
	for {
		events, err := src.WaitEvents(ctx, from, limit)
		if err != nil {
			return from, fmt.Errorf("wait for events from %d: %w", from, err)
		}
		for _, e := range events {
			if err := handle(ctx, e); err != nil {
				return from, fmt.Errorf("handle event %d (%s): %w", e.Cursor, e.Kind, err)
			}
			from = e.Cursor + 1
		}
	}
}
