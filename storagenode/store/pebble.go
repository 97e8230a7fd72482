package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// separateValuesFrom is the size from which pebble keeps a value in a blob
// file rather than in the sstable, so that compactions move only a
// reference to it (RocksDB's BlobDB, as Walrus's nodes use).
const separateValuesFrom = 4 << 10

func pebbleOptions(opts Options, cache *pebble.Cache, log *slog.Logger) *pebble.Options {
	o := &pebble.Options{
		FormatMajorVersion: pebble.FormatValueSeparation,
		MemTableSize:       uint64(opts.MemTableSize),
		Cache:              cache,
		Logger:             pebbleLogger{log},
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) { log.Error("store background error", "err", err) },
			DiskSlow: func(info pebble.DiskSlowInfo) {
				log.Warn("store disk slow", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration)
			},
		},
	}
	o.Experimental.EnableColumnarBlocks = func() bool { return true }
	o.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:     true,
			MinimumSize: separateValuesFrom,
			// Limits how many blob files one sstable may reference before a
			// compaction rewrites values together (pebble's suggested value).
			MaxBlobReferenceDepth: 10,
			// Blob files in which a fifth of the bytes belong to deleted
			// slivers are rewritten once they are five minutes old.
			RewriteMinimumAge:  5 * time.Minute,
			TargetGarbageRatio: 0.2,
		}
	}
	return o
}

// pebbleLogger sends pebble's messages to slog. Pebble logs routine events
// (flushes, compactions) at info; they go to debug here.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Log(context.Background(), slog.LevelDebug, fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called by pebble when it cannot go on (an fsync failed, its
// manifest is corrupt) and it does not expect Fatalf to return. Pebble's
// own default logger exits the process; a panic at least runs deferred
// calls and shows where.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("store fatal", "msg", msg)
	panic("store: pebble: " + msg)
}
