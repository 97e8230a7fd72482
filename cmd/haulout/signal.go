package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// signalContext is ctx, cancelled on SIGINT or SIGTERM so that services shut
// down gracefully.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}
