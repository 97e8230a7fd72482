package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Page sizes of List and Expired.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Config chooses and configures the store.
type Config struct {
	// DatabaseURL is a PostgreSQL URL (postgres://user:pass@host:port/db?...,
	// anything pgx accepts, including pool_max_conns and search_path). When
	// it is empty the embedded SQLite store at Path is used.
	DatabaseURL string
	// Path is the SQLite database file, created with its folder if missing.
	// Used only when DatabaseURL is empty.
	Path string
	// Logger receives the store's few messages (the schema version at
	// open). Nil discards them.
	Logger *slog.Logger
}

// Store keeps the publisher's jobs, in PostgreSQL or in an embedded SQLite
// file. It is safe for concurrent use, by goroutines and by processes sharing
// the database.
type Store struct {
	b backend
}

// backend is what each database provides; Store holds the rules. Every
// method that changes a job runs the rules' callback inside one transaction
// that holds the job's row, with now taken from the database's clock.
type backend interface {
	name() string
	// insert stores the record that build makes; ErrExists if the ID is taken.
	insert(ctx context.Context, build func(now time.Time) record) (record, error)
	// get returns one job with its nodes; ErrNotFound if there is none.
	get(ctx context.Context, id string) (record, error)
	// list returns up to q.limit jobs with their nodes, in ID order.
	list(ctx context.Context, q listQuery) ([]record, error)
	// modify locks the job, calls fn, then saves the record and upserts the
	// nodes that fn returned; an error from fn rolls everything back.
	modify(ctx context.Context, id string, fn func(r *record, now time.Time) ([]NodeProgress, error)) error
	// claim locks the first job (in ID order) that is unfinished and whose
	// lease is free or expired, skipping jobs other transactions hold; calls
	// fn and saves. ok is false when there is no such job.
	claim(ctx context.Context, fn func(r *record, now time.Time)) (r record, ok bool, err error)
	// releaseOwner ends every lease held by owner.
	releaseOwner(ctx context.Context, owner string) (int, error)
	// prune deletes finished jobs last updated before t.
	prune(ctx context.Context, before time.Time) (int, error)
	close() error
}

// listQuery selects jobs: in one of states (any if empty), with IDs after
// after; or, with expired set, the unfinished jobs whose lease has expired.
type listQuery struct {
	states  []State
	after   string
	limit   int
	expired bool
}

// record is a job as stored: the lease token stays when a lease ends, so that
// the next lease gets a larger one.
type record struct {
	Job
	token int64
}

// Open opens the store that cfg chooses and brings its schema up to date
// (golang-migrate, with the files of package migrations). Several processes
// may open one database at once; migrations run once.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		b   backend
		err error
	)
	switch {
	case cfg.DatabaseURL != "":
		b, err = openPostgres(ctx, cfg.DatabaseURL, log)
	case cfg.Path != "":
		b, err = openSQLite(ctx, cfg.Path, log)
	default:
		return nil, fmt.Errorf("jobs: open: %w: neither a database URL nor a path", ErrInvalidArgument)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: open: %w", err)
	}
	return &Store{b: b}, nil
}

// Backend names the database: "postgres" or "sqlite".
func (s *Store) Backend() string { return s.b.name() }

// Close closes the store's connections.
func (s *Store) Close() error { return s.b.close() }

// NewID returns a new job ID: a UUIDv7, so IDs sort in creation order.
func NewID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("jobs: new ID: %w", err)
	}
	return u.String(), nil
}

// Create stores a new job in state received. With an owner, the job is
// created leased to it for lease (its first attempt), so that no other
// publisher takes it while its creator works on it; the returned job's Lease
// is the one to present. Without an owner, the job waits for Acquire.
// ErrExists if n.ID is taken.
func (s *Store) Create(ctx context.Context, n NewJob, owner string, lease time.Duration) (Job, error) {
	if n.ID == "" {
		id, err := NewID()
		if err != nil {
			return Job{}, err
		}
		n.ID = id
	}
	if err := checkNew(n, owner, lease); err != nil {
		return Job{}, fmt.Errorf("jobs: create: %w", err)
	}
	r, err := s.b.insert(ctx, func(now time.Time) record {
		r := record{Job: Job{
			ID:        n.ID,
			Size:      n.Size,
			SpoolPath: n.SpoolPath,
			Options:   n.Options,
			State:     StateReceived,
			Created:   now,
			Updated:   now,
		}}
		if owner != "" {
			r.take(owner, lease, now)
		}
		return r
	})
	if err != nil {
		return Job{}, fmt.Errorf("jobs: create %s: %w", n.ID, err)
	}
	return r.Job, nil
}

// Get returns the job with its node progress. ErrNotFound if there is none.
func (s *Store) Get(ctx context.Context, id string) (Job, error) {
	if !validID(id) {
		return Job{}, fmt.Errorf("jobs: get %q: %w", id, ErrNotFound)
	}
	r, err := s.b.get(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	return r.Job, nil
}

// List returns one page of jobs in ID (creation) order, with their node
// progress, and the cursor of the next page: pass it as After, or stop when it
// is empty.
func (s *Store) List(ctx context.Context, o ListOptions) (jobs []Job, next string, err error) {
	for _, st := range o.States {
		if !st.Valid() {
			return nil, "", fmt.Errorf("jobs: list: %w: state %q", ErrInvalidArgument, st)
		}
	}
	limit, err := pageLimit(o.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("jobs: list: %w", err)
	}
	rs, err := s.b.list(ctx, listQuery{states: o.States, after: o.After, limit: limit + 1})
	if err != nil {
		return nil, "", fmt.Errorf("jobs: list: %w", err)
	}
	if len(rs) > limit {
		rs = rs[:limit]
		next = rs[limit-1].ID
	}
	return unwrap(rs), next, nil
}

// Expired returns up to limit (DefaultLimit when 0) unfinished jobs whose
// lease has expired, longest expired first: jobs left behind by a publisher
// that stopped renewing, most likely a dead one. Acquire takes them over; Expired is for reports and
// metrics.
func (s *Store) Expired(ctx context.Context, limit int) ([]Job, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: expired: %w", err)
	}
	rs, err := s.b.list(ctx, listQuery{limit: limit, expired: true})
	if err != nil {
		return nil, fmt.Errorf("jobs: expired: %w", err)
	}
	return unwrap(rs), nil
}

// Acquire leases to owner, for lease, an unfinished job that nobody holds:
// one never taken or released (the oldest such first), else the one whose
// lease expired longest ago (its publisher died or stalled). It counts an
// attempt and issues a new lease token, which fences out the previous
// holder. ok is false when no job is waiting.
// Concurrent callers, in one process or many, never get the same job while
// its lease runs.
func (s *Store) Acquire(ctx context.Context, owner string, lease time.Duration) (j Job, ok bool, err error) {
	if err := checkOwner(owner, lease); err != nil {
		return Job{}, false, fmt.Errorf("jobs: acquire: %w", err)
	}
	r, ok, err := s.b.claim(ctx, func(r *record, now time.Time) {
		r.take(owner, lease, now)
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("jobs: acquire: %w", err)
	}
	return r.Job, ok, nil
}

// Renew extends the holder's lease to lease from now and returns it. A
// holder renews well before Expires (every lease/3, say): once the lease
// has expired, Renew fails with a *LeaseError even if nobody took the job yet.
func (s *Store) Renew(ctx context.Context, l Lease, lease time.Duration) (Lease, error) {
	if err := checkLease(l); err != nil {
		return Lease{}, fmt.Errorf("jobs: renew: %w", err)
	}
	if lease <= 0 {
		return Lease{}, fmt.Errorf("jobs: renew %s: %w: lease %v", l.Job, ErrInvalidArgument, lease)
	}
	var renewed Lease
	err := s.b.modify(ctx, l.Job, func(r *record, now time.Time) ([]NodeProgress, error) {
		if err := r.held(l, now); err != nil {
			return nil, err
		}
		r.Lease.Expires = expiry(now, lease)
		renewed = r.Lease
		return nil, nil
	})
	if err != nil {
		return Lease{}, fmt.Errorf("jobs: renew %s: %w", l.Job, err)
	}
	return renewed, nil
}

// Release ends the holder's lease without finishing the job, so that
// another publisher may take it at once (a clean shutdown).
func (s *Store) Release(ctx context.Context, l Lease) error {
	if err := checkLease(l); err != nil {
		return fmt.Errorf("jobs: release: %w", err)
	}
	err := s.b.modify(ctx, l.Job, func(r *record, now time.Time) ([]NodeProgress, error) {
		if err := r.held(l, now); err != nil {
			return nil, err
		}
		r.Lease = Lease{}
		r.Updated = now
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("jobs: release %s: %w", l.Job, err)
	}
	return nil
}

// ReleaseOwner ends every lease that owner holds and returns how many. It
// is for a publisher that restarts under the same owner name and so knows
// that its previous run is gone: its jobs become available at once instead of
// when their leases expire. Never call it with the name of a live publisher.
func (s *Store) ReleaseOwner(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, fmt.Errorf("jobs: release owner: %w: empty owner", ErrInvalidArgument)
	}
	n, err := s.b.releaseOwner(ctx, owner)
	if err != nil {
		return 0, fmt.Errorf("jobs: release owner %q: %w", owner, err)
	}
	return n, nil
}

// Update applies c to the job that l holds, in one transaction: the whole
// change or none of it. It refuses with a *LeaseError (ErrLeaseLost) unless l
// is the job's current, unexpired lease; with ErrFinished once the job is done
// or failed; with ErrInvalidTransition for a move backwards or a new blob ID.
func (s *Store) Update(ctx context.Context, l Lease, c Change) error {
	if err := checkLease(l); err != nil {
		return fmt.Errorf("jobs: update: %w", err)
	}
	if err := checkChange(c); err != nil {
		return fmt.Errorf("jobs: update %s: %w", l.Job, err)
	}
	err := s.b.modify(ctx, l.Job, func(r *record, now time.Time) ([]NodeProgress, error) {
		if err := r.held(l, now); err != nil {
			return nil, err
		}
		if err := r.apply(c, now); err != nil {
			return nil, err
		}
		nodes := make([]NodeProgress, len(c.Nodes))
		for i, n := range c.Nodes {
			n.Updated = now
			nodes[i] = n
		}
		return nodes, nil
	})
	if err != nil {
		return fmt.Errorf("jobs: update %s: %w", l.Job, err)
	}
	return nil
}

// Fail marks the job that l holds failed for reason, and ends the lease.
// The job is never taken again.
func (s *Store) Fail(ctx context.Context, l Lease, reason string) error {
	if reason == "" {
		return fmt.Errorf("jobs: fail %s: %w: empty reason", l.Job, ErrInvalidArgument)
	}
	return s.Update(ctx, l, Change{State: StateFailed, Error: reason})
}

// Prune deletes the finished jobs (done or failed) last updated before t, with
// their node progress, and returns how many. Their spool files are the
// caller's to remove.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	n, err := s.b.prune(ctx, before.UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	return n, nil
}

// take gives the record a new lease of owner for d from now.
func (r *record) take(owner string, d time.Duration, now time.Time) {
	r.token++
	r.Attempts++
	r.Lease = Lease{Job: r.ID, Owner: owner, Token: r.token, Expires: expiry(now, d)}
	r.Updated = now
}

// held checks that l is the record's current, unexpired lease.
func (r *record) held(l Lease, now time.Time) error {
	if r.State.Terminal() {
		return fmt.Errorf("%w: it is %s", ErrFinished, r.State)
	}
	if r.Lease.Owner == l.Owner && r.token == l.Token && now.Before(r.Lease.Expires) {
		return nil
	}
	return &LeaseError{
		Job: l.Job, Owner: l.Owner, Token: l.Token,
		Holder: r.Lease.Owner, HolderToken: r.Lease.Token, Expires: r.Lease.Expires, At: now,
	}
}

// apply writes c into the record, checking the state order and the blob ID.
func (r *record) apply(c Change, now time.Time) error {
	if c.BlobID != "" {
		if r.BlobID != "" && r.BlobID != c.BlobID {
			return fmt.Errorf("%w: blob ID %s cannot become %s", ErrInvalidTransition, r.BlobID, c.BlobID)
		}
		r.BlobID = c.BlobID
	}
	switch {
	case c.State == "" || c.State == r.State:
	case c.State == StateFailed:
		r.State, r.Failure = StateFailed, c.Error
	case rank[c.State] > rank[r.State]:
		r.State = c.State
	default:
		return fmt.Errorf("%w: %s cannot go back to %s", ErrInvalidTransition, r.State, c.State)
	}
	if r.State.Terminal() {
		r.Lease = Lease{}
	}
	if c.Registration != nil {
		reg := *c.Registration
		r.Registration = &reg
	}
	if c.Certificate != nil {
		cert := *c.Certificate
		cert.Signers = append([]uint16(nil), cert.Signers...)
		r.Certificate = &cert
	}
	if c.Result != nil {
		r.Result = append(json.RawMessage(nil), c.Result...)
	}
	if c.Error != "" {
		r.LastError = c.Error
	}
	r.Updated = now
	return nil
}

func checkNew(n NewJob, owner string, lease time.Duration) error {
	switch {
	case !validID(n.ID):
		return fmt.Errorf("%w: ID %q: want 1 to 64 of A-Z a-z 0-9 - _", ErrInvalidArgument, n.ID)
	case n.Size < 0:
		return fmt.Errorf("%w: size %d", ErrInvalidArgument, n.Size)
	case n.SpoolPath == "":
		return fmt.Errorf("%w: no spool path", ErrInvalidArgument)
	case owner != "":
		return checkOwner(owner, lease)
	}
	return nil
}

func checkOwner(owner string, lease time.Duration) error {
	if owner == "" {
		return fmt.Errorf("%w: empty owner", ErrInvalidArgument)
	}
	if lease <= 0 {
		return fmt.Errorf("%w: lease %v", ErrInvalidArgument, lease)
	}
	return nil
}

func checkLease(l Lease) error {
	if !validID(l.Job) {
		return fmt.Errorf("%w: lease on job %q", ErrInvalidArgument, l.Job)
	}
	if l.Owner == "" {
		return fmt.Errorf("%w: lease on job %s without an owner", ErrInvalidArgument, l.Job)
	}
	return nil
}

func checkChange(c Change) error {
	if c.State != "" && !c.State.Valid() {
		return fmt.Errorf("%w: state %q", ErrInvalidArgument, c.State)
	}
	if c.State == StateFailed && c.Error == "" {
		return fmt.Errorf("%w: failing without a reason", ErrInvalidArgument)
	}
	if c.Result != nil && !json.Valid(c.Result) {
		return fmt.Errorf("%w: result is not JSON", ErrInvalidArgument)
	}
	seen := make(map[string]bool, len(c.Nodes))
	for _, n := range c.Nodes {
		switch {
		case n.Node == "":
			return fmt.Errorf("%w: node progress without a node", ErrInvalidArgument)
		case !n.State.Valid():
			return fmt.Errorf("%w: node %s: state %q", ErrInvalidArgument, n.Node, n.State)
		case n.Attempts < 0:
			return fmt.Errorf("%w: node %s: %d attempts", ErrInvalidArgument, n.Node, n.Attempts)
		case seen[n.Node]:
			return fmt.Errorf("%w: node %s twice in one change", ErrInvalidArgument, n.Node)
		}
		seen[n.Node] = true
	}
	return nil
}

func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, fmt.Errorf("%w: limit %d: want 1 to %d", ErrInvalidArgument, n, MaxLimit)
	}
	return n, nil
}

// validID accepts what NewID makes and what callers may choose instead:
// 1 to 64 characters that are safe in a URL path and a file name.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// expiry is now+d at the databases' microsecond precision.
func expiry(now time.Time, d time.Duration) time.Time {
	return now.Add(d).Truncate(time.Microsecond)
}

func unwrap(rs []record) []Job {
	jobs := make([]Job, len(rs))
	for i := range rs {
		jobs[i] = rs[i].Job
	}
	return jobs
}
