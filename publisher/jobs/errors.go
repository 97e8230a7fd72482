package jobs

import (
	"errors"
	"fmt"
	"time"
)

// Errors the store returns, wrapped with context (test with errors.Is).
var (
	// ErrNotFound: no job with that ID.
	ErrNotFound = errors.New("job not found")
	// ErrExists: Create was given an ID that is taken.
	ErrExists = errors.New("job already exists")
	// ErrLeaseLost: the caller does not hold the job's current lease. The
	// error is a *LeaseError that says who does.
	ErrLeaseLost = errors.New("lease lost")
	// ErrFinished: the job is done or failed and changes no more.
	ErrFinished = errors.New("job is finished")
	// ErrInvalidTransition: a change would move a job backwards, or change
	// its blob ID.
	ErrInvalidTransition = errors.New("invalid job transition")
	// ErrInvalidArgument: a malformed ID, owner, duration, state or value.
	ErrInvalidArgument = errors.New("invalid argument")
)

// LeaseError refuses a change from a publisher that does not hold the job's
// current lease: another publisher took the job over, or the lease expired or
// was released. The publisher must stop working on the job. It matches
// ErrLeaseLost.
type LeaseError struct {
	// Job, Owner and Token are the refused lease.
	Job   string
	Owner string
	Token int64
	// Holder and HolderToken are the job's current lease; Holder is empty
	// when nobody holds it. Expires is when the current lease ends (or
	// ended), At the store's time of the refusal.
	Holder      string
	HolderToken int64
	Expires     time.Time
	At          time.Time
}

func (e *LeaseError) Error() string {
	prefix := fmt.Sprintf("jobs: job %s: lease %d of %q lost", e.Job, e.Token, e.Owner)
	switch {
	case e.Holder == "":
		return prefix + ": the job is not leased"
	case e.Holder != e.Owner || e.HolderToken != e.Token:
		return fmt.Sprintf("%s: lease %d of %q holds it until %s", prefix, e.HolderToken, e.Holder, e.Expires.Format(time.RFC3339Nano))
	default:
		return fmt.Sprintf("%s: expired at %s (now %s)", prefix, e.Expires.Format(time.RFC3339Nano), e.At.Format(time.RFC3339Nano))
	}
}

// Is makes errors.Is(err, ErrLeaseLost) true.
func (e *LeaseError) Is(target error) bool { return target == ErrLeaseLost }
