package local

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// Ledger is the embedded ledger. It is safe for concurrent use. Its methods
// other than Close are the method set that chain/ledgerhttp's Client also
// has.
type Ledger struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu     sync.RWMutex
	st     *state
	wal    *wal
	notify chan struct{} // closed and replaced whenever events are appended
	closed bool
	broken error // set when the log can no longer be trusted to append

	stopTicker context.CancelFunc
	tickerDone chan struct{}
}

// Open opens the ledger at cfg.Path, replaying its log, or creates it from
// cfg.Genesis. With a positive EpochDuration it starts advancing epochs on
// time until Close.
func Open(ctx context.Context, cfg Config) (*Ledger, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Ledger{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "ledger"),
		now:    time.Now,
		st:     newState(),
		notify: make(chan struct{}),
	}
	w, err := openWAL(cfg.Path, l.log, l.replayRecord)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", cfg.Path, err)
	}
	l.wal = w
	if l.st.tx == 0 {
		if err := l.genesis(ctx); err != nil {
			w.close()
			return nil, fmt.Errorf("create ledger %s: %w", cfg.Path, err)
		}
	} else {
		l.log.Info("ledger opened", "path", cfg.Path, "epoch", l.st.epoch,
			"transactions", l.st.tx, "events", len(l.st.events), "objects", len(l.st.objects))
	}
	l.startTicker()
	return l, nil
}

func (l *Ledger) replayRecord(payload []byte) error {
	var e entry
	if err := json.Unmarshal(payload, &e); err != nil {
		return fmt.Errorf("decode entry: %w", err)
	}
	return l.st.apply(&e)
}

func (l *Ledger) genesis(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(l.cfg.Genesis) == 0 {
		return fmt.Errorf("%w: a new ledger needs a genesis committee", chain.ErrInvalidCommittee)
	}
	committee, err := chain.NewCommittee(GenesisEpoch, l.cfg.Genesis, GenesisEpoch-1)
	if err != nil {
		return err
	}
	e := l.st.newEntry(opGenesis, l.now())
	if _, err := rand.Read(e.LedgerID[:]); err != nil {
		return fmt.Errorf("draw ledger ID: %w", err)
	}
	e.Committee = &committee
	// The event ID derives from the ledger ID, which apply sets first.
	l.st.ledgerID = e.LedgerID
	e.Event = l.st.newEvent(e, chain.EventEpochChange)
	e.Event.Epoch = GenesisEpoch
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.commit(e); err != nil {
		return err
	}
	l.log.Info("ledger created", "path", l.cfg.Path, "epoch", GenesisEpoch,
		"nodes", len(committee.Nodes), "shards", committee.NShards)
	return nil
}

// commit logs e durably and applies it. The caller holds l.mu for writing
// and has validated e.
func (l *Ledger) commit(e *entry) error {
	if l.closed {
		return chain.ErrClosed
	}
	if l.broken != nil {
		return fmt.Errorf("%w: %w", chain.ErrClosed, l.broken)
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode ledger entry: %w", err)
	}
	if err := l.wal.append(payload); err != nil {
		if errors.Is(err, errWALBroken) {
			l.broken = err
		}
		return err
	}
	if err := l.st.apply(e); err != nil {
		// Logged but not applicable: a bug. Stop writing rather than diverge
		// from the log.
		l.broken = err
		return fmt.Errorf("apply ledger entry: %w", err)
	}
	if e.Event != nil {
		close(l.notify)
		l.notify = make(chan struct{})
	}
	return nil
}

// Close stops the epoch clock and closes the log. Blocked WaitEvents calls
// return ErrClosed.
func (l *Ledger) Close() error {
	l.stopTickerAndWait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.notify)
	return l.wal.close()
}

// rlock checks ctx, locks for reading and checks that the ledger is open;
// if it returns nil the caller must call l.mu.RUnlock.
func (l *Ledger) rlock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return chain.ErrClosed
	}
	return nil
}

// lock is rlock for writing; if it returns nil the caller must call
// l.mu.Unlock.
func (l *Ledger) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return chain.ErrClosed
	}
	return nil
}

// CurrentEpoch returns the current epoch.
func (l *Ledger) CurrentEpoch(ctx context.Context) (chain.Epoch, error) {
	if err := l.rlock(ctx); err != nil {
		return 0, err
	}
	defer l.mu.RUnlock()
	return l.st.epoch, nil
}

// SystemInfo returns the current epoch, when it started, the epoch length,
// the end-epoch bound and the shard count.
func (l *Ledger) SystemInfo(ctx context.Context) (chain.SystemInfo, error) {
	if err := l.rlock(ctx); err != nil {
		return chain.SystemInfo{}, err
	}
	defer l.mu.RUnlock()
	return chain.SystemInfo{
		Epoch:          l.st.epoch,
		EpochStart:     l.st.epochStart,
		EpochDuration:  l.cfg.EpochDuration,
		MaxEpochsAhead: l.cfg.MaxEpochsAhead,
		NShards:        l.st.committee().NShards,
	}, nil
}

// CurrentCommittee returns the committee of the current epoch.
func (l *Ledger) CurrentCommittee(ctx context.Context) (chain.Committee, error) {
	if err := l.rlock(ctx); err != nil {
		return chain.Committee{}, err
	}
	defer l.mu.RUnlock()
	c, _ := l.st.committeeAt(l.st.epoch)
	return c, nil
}

// Committee returns the committee of a past or the current epoch; other
// epochs give ErrInvalidEpochs.
func (l *Ledger) Committee(ctx context.Context, epoch chain.Epoch) (chain.Committee, error) {
	if err := l.rlock(ctx); err != nil {
		return chain.Committee{}, err
	}
	defer l.mu.RUnlock()
	c, ok := l.st.committeeAt(epoch)
	if !ok {
		return chain.Committee{}, fmt.Errorf("%w: no committee for epoch %d (current %d)", chain.ErrInvalidEpochs, epoch, l.st.epoch)
	}
	return c, nil
}

// Blob returns the Blob object with the given ID, deleted or expired ones
// included.
func (l *Ledger) Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error) {
	if err := l.rlock(ctx); err != nil {
		return chain.BlobRecord{}, err
	}
	defer l.mu.RUnlock()
	o, ok := l.st.objects[id]
	if !ok {
		return chain.BlobRecord{}, fmt.Errorf("%w: %s", chain.ErrBlobNotFound, id)
	}
	return o.rec.Clone(), nil
}

// BlobObjects returns every Blob object ever registered for blobID, in
// registration order, deleted and expired ones included.
func (l *Ledger) BlobObjects(ctx context.Context, blobID codec.BlobID) ([]chain.BlobRecord, error) {
	if err := l.rlock(ctx); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	ids := l.st.byBlobID[blobID]
	out := make([]chain.BlobRecord, len(ids))
	for i, id := range ids {
		out[i] = l.st.objects[id].rec.Clone()
	}
	return out, nil
}

// BlobStatus returns the status of blobID aggregated over its Blob objects in
// the current epoch, as Walrus's storage nodes report it.
func (l *Ledger) BlobStatus(ctx context.Context, blobID codec.BlobID) (chain.BlobStatus, error) {
	if err := l.rlock(ctx); err != nil {
		return chain.BlobStatus{}, err
	}
	defer l.mu.RUnlock()
	return l.st.status(blobID), nil
}
