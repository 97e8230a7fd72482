package jobs

import (
	"encoding/json"
	"fmt"
	"time"
)

// jobColumns are the columns of table jobs, in the order of rawJob.dests;
// both schemas name them alike. The three times come last because their Go
// types differ between the databases.
const jobColumns = `id, blob_id, size, spool_path, options, state, failure, attempts, last_error,
	registration, certificate, result, lease_owner, lease_token,
	lease_expires_at, created_at, updated_at`

// nodeColumns are the columns of table job_nodes, in the order of
// rawNode.dests.
const nodeColumns = `job_id, node_id, state, attempts, last_error, updated_at`

// rawJob is a row of jobs as both drivers scan it, times aside.
type rawJob struct {
	id, spool, state, failure, lastError string
	blobID, owner                        *string
	size, token                          int64
	attempts                             int
	options, registration, certificate   []byte
	result                               []byte
}

// dests returns the scan destinations for jobColumns, with times for the
// three time columns.
func (r *rawJob) dests(times ...any) []any {
	return append([]any{
		&r.id, &r.blobID, &r.size, &r.spool, &r.options, &r.state, &r.failure, &r.attempts, &r.lastError,
		&r.registration, &r.certificate, &r.result, &r.owner, &r.token,
	}, times...)
}

// record decodes the row; the times are UTC.
func (r *rawJob) record(expires *time.Time, created, updated time.Time) (record, error) {
	rec := record{Job: Job{
		ID:        r.id,
		Size:      r.size,
		SpoolPath: r.spool,
		State:     State(r.state),
		Failure:   r.failure,
		Attempts:  r.attempts,
		LastError: r.lastError,
		Created:   created.UTC(),
		Updated:   updated.UTC(),
	}, token: r.token}
	if r.blobID != nil {
		rec.BlobID = *r.blobID
	}
	if r.owner != nil && expires != nil {
		rec.Lease = Lease{Job: r.id, Owner: *r.owner, Token: r.token, Expires: expires.UTC()}
	}
	if err := json.Unmarshal(r.options, &rec.Options); err != nil {
		return record{}, fmt.Errorf("job %s: options: %w", r.id, err)
	}
	if r.registration != nil {
		rec.Registration = new(Registration)
		if err := json.Unmarshal(r.registration, rec.Registration); err != nil {
			return record{}, fmt.Errorf("job %s: registration: %w", r.id, err)
		}
	}
	if r.certificate != nil {
		rec.Certificate = new(Certificate)
		if err := json.Unmarshal(r.certificate, rec.Certificate); err != nil {
			return record{}, fmt.Errorf("job %s: certificate: %w", r.id, err)
		}
	}
	if r.result != nil {
		rec.Result = json.RawMessage(r.result)
	}
	return rec, nil
}

// rawNode is a row of job_nodes, time aside.
type rawNode struct {
	job, node, state, lastError string
	attempts                    int
}

func (n *rawNode) dests(updated any) []any {
	return []any{&n.job, &n.node, &n.state, &n.attempts, &n.lastError, updated}
}

func (n *rawNode) progress(updated time.Time) NodeProgress {
	return NodeProgress{
		Node: n.node, State: NodeState(n.state), Attempts: n.attempts, LastError: n.lastError, Updated: updated.UTC(),
	}
}

// values are a record's columns as both drivers bind them, times aside:
// NULL for an empty blob ID and owner and for absent JSON.
type values struct {
	blobID, owner                              *string
	options, registration, certificate, result []byte
}

func (r *record) values() (values, error) {
	var v values
	if r.BlobID != "" {
		v.blobID = &r.BlobID
	}
	if r.Lease.Owner != "" {
		v.owner = &r.Lease.Owner
	}
	var err error
	if v.options, err = json.Marshal(r.Options); err != nil {
		return values{}, fmt.Errorf("job %s: options: %w", r.ID, err)
	}
	if r.Registration != nil {
		if v.registration, err = json.Marshal(r.Registration); err != nil {
			return values{}, fmt.Errorf("job %s: registration: %w", r.ID, err)
		}
	}
	if r.Certificate != nil {
		if v.certificate, err = json.Marshal(r.Certificate); err != nil {
			return values{}, fmt.Errorf("job %s: certificate: %w", r.ID, err)
		}
	}
	if r.Result != nil {
		v.result = r.Result
	}
	return v, nil
}

// attachNodes sets each record's Nodes from nodes, which are ordered by job
// and node.
func attachNodes(rs []record, nodes map[string][]NodeProgress) {
	for i := range rs {
		rs[i].Nodes = nodes[rs[i].ID]
	}
}
