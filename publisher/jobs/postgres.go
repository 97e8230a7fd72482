package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx/v5", for golang-migrate

	"github.com/haulout/haulout/migrations"
)

// postgres keeps the jobs in PostgreSQL through a pgx pool. Times come from
// the server's clock (clock_timestamp), so that publishers on several
// machines agree on when a lease expires.
type postgres struct {
	pool *pgxpool.Pool
}

// pgUniqueViolation is SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

func openPostgres(ctx context.Context, url string, log *slog.Logger) (*postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migratePostgres(ctx, url, log); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &postgres{pool: pool}, nil
}

// migratePostgres applies the migrations through database/sql, which is what
// golang-migrate's pgx driver takes. The driver holds a Postgres advisory
// lock while it migrates, so publishers that start together migrate once.
func migratePostgres(ctx context.Context, url string, log *slog.Logger) error {
	db, err := sql.Open("pgx/v5", url)
	if err != nil {
		return err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return err
	}
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		db.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	return runMigrations(ctx, "postgres", migrations.Postgres(), drv, log)
}

func (p *postgres) name() string { return "postgres" }

func (p *postgres) close() error {
	p.pool.Close()
	return nil
}

func (p *postgres) insert(ctx context.Context, build func(now time.Time) record) (record, error) {
	var r record
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var now time.Time
		if err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
			return err
		}
		r = build(now.UTC())
		v, err := r.values()
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO jobs (`+jobColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			r.ID, v.blobID, r.Size, r.SpoolPath, v.options, r.State, r.Failure, r.Attempts, r.LastError,
			v.registration, v.certificate, v.result, v.owner, r.token,
			pgExpires(r.Lease), r.Created, r.Updated)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation && pgErr.ConstraintName == "jobs_pkey" {
			return ErrExists
		}
		return err
	})
	return r, err
}

func (p *postgres) get(ctx context.Context, id string) (record, error) {
	var r record
	// One snapshot for the job and its nodes.
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, p.pool, opts, func(tx pgx.Tx) error {
		var err error
		r, err = pgScanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		rs := []record{r}
		if err := pgLoadNodes(ctx, tx, rs); err != nil {
			return err
		}
		r = rs[0]
		return nil
	})
	return r, err
}

func (p *postgres) list(ctx context.Context, q listQuery) ([]record, error) {
	var rs []record
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, p.pool, opts, func(tx pgx.Tx) error {
		var (
			rows pgx.Rows
			err  error
		)
		if q.expired {
			rows, err = tx.Query(ctx, `SELECT `+jobColumns+` FROM jobs
				WHERE state NOT IN ('done', 'failed') AND lease_owner IS NOT NULL
				AND coalesce(lease_expires_at, '-infinity') <= clock_timestamp()
				ORDER BY coalesce(lease_expires_at, '-infinity'), id LIMIT $1`, q.limit)
		} else {
			states := []string{}
			for _, s := range q.states {
				states = append(states, string(s))
			}
			rows, err = tx.Query(ctx, `SELECT `+jobColumns+` FROM jobs
				WHERE id > $1 AND (cardinality($2::text[]) = 0 OR state = ANY($2::text[]))
				ORDER BY id LIMIT $3`, q.after, states, q.limit)
		}
		if err != nil {
			return err
		}
		rs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (record, error) { return pgScanJob(row) })
		if err != nil {
			return err
		}
		return pgLoadNodes(ctx, tx, rs)
	})
	return rs, err
}

func (p *postgres) modify(ctx context.Context, id string, fn func(r *record, now time.Time) ([]NodeProgress, error)) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var (
			raw                   rawJob
			expires               *time.Time
			created, updated, now time.Time
		)
		err := tx.QueryRow(ctx, `SELECT `+jobColumns+`, clock_timestamp() FROM jobs WHERE id = $1 FOR UPDATE`, id).
			Scan(raw.dests(&expires, &created, &updated, &now)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		r, err := raw.record(expires, created, updated)
		if err != nil {
			return err
		}
		nodes, err := fn(&r, now.UTC())
		if err != nil {
			return err
		}
		return pgSave(ctx, tx, &r, nodes)
	})
}

func (p *postgres) claim(ctx context.Context, fn func(r *record, now time.Time)) (record, bool, error) {
	var (
		r     record
		found bool
	)
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var (
			raw                   rawJob
			expires               *time.Time
			created, updated, now time.Time
		)
		// SKIP LOCKED: concurrent claimers each lock a different job instead
		// of queueing behind the first. The order is index jobs_available's;
		// now() (the transaction's start), unlike clock_timestamp(), may
		// bound an index scan.
		err := tx.QueryRow(ctx, `SELECT `+jobColumns+`, clock_timestamp() FROM jobs
			WHERE state NOT IN ('done', 'failed') AND coalesce(lease_expires_at, '-infinity') <= now()
			ORDER BY coalesce(lease_expires_at, '-infinity'), id LIMIT 1
			FOR UPDATE SKIP LOCKED`).Scan(raw.dests(&expires, &created, &updated, &now)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if r, err = raw.record(expires, created, updated); err != nil {
			return err
		}
		fn(&r, now.UTC())
		if err := pgSave(ctx, tx, &r, nil); err != nil {
			return err
		}
		rs := []record{r}
		if err := pgLoadNodes(ctx, tx, rs); err != nil {
			return err
		}
		r, found = rs[0], true
		return nil
	})
	if err != nil {
		return record{}, false, err
	}
	return r, found, nil
}

func (p *postgres) releaseOwner(ctx context.Context, owner string) (int, error) {
	tag, err := p.pool.Exec(ctx, `UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL,
		updated_at = clock_timestamp() WHERE lease_owner = $1`, owner)
	return int(tag.RowsAffected()), err
}

func (p *postgres) prune(ctx context.Context, before time.Time) (int, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_at < $1`, before)
	return int(tag.RowsAffected()), err
}

// pgSave writes the record's mutable columns and upserts nodes.
func pgSave(ctx context.Context, tx pgx.Tx, r *record, nodes []NodeProgress) error {
	v, err := r.values()
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE jobs SET blob_id = $2, state = $3, failure = $4, attempts = $5,
		last_error = $6, registration = $7, certificate = $8, result = $9,
		lease_owner = $10, lease_token = $11, lease_expires_at = $12, updated_at = $13
		WHERE id = $1`,
		r.ID, v.blobID, r.State, r.Failure, r.Attempts, r.LastError, v.registration, v.certificate, v.result,
		v.owner, r.token, pgExpires(r.Lease), r.Updated)
	if err != nil || len(nodes) == 0 {
		return err
	}
	var (
		ids, states, lastErrors []string
		attempts                []int32
	)
	for _, n := range nodes {
		ids = append(ids, n.Node)
		states = append(states, string(n.State))
		attempts = append(attempts, int32(min(n.Attempts, 1<<31-1)))
		lastErrors = append(lastErrors, n.LastError)
	}
	_, err = tx.Exec(ctx, `INSERT INTO job_nodes (`+nodeColumns+`)
		SELECT $1, n.node_id, n.state, n.attempts, n.last_error, $6
		FROM unnest($2::text[], $3::text[], $4::int[], $5::text[]) AS n (node_id, state, attempts, last_error)
		ON CONFLICT (job_id, node_id) DO UPDATE SET state = excluded.state,
			attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at`,
		r.ID, ids, states, attempts, lastErrors, nodes[0].Updated)
	return err
}

// pgLoadNodes fills in the nodes of rs.
func pgLoadNodes(ctx context.Context, tx pgx.Tx, rs []record) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	rows, err := tx.Query(ctx, `SELECT `+nodeColumns+` FROM job_nodes
		WHERE job_id = ANY($1::text[]) ORDER BY job_id, node_id`, ids)
	if err != nil {
		return err
	}
	nodes := map[string][]NodeProgress{}
	var (
		n       rawNode
		updated time.Time
	)
	_, err = pgx.ForEachRow(rows, n.dests(&updated), func() error {
		nodes[n.job] = append(nodes[n.job], n.progress(updated))
		return nil
	})
	if err != nil {
		return err
	}
	attachNodes(rs, nodes)
	return nil
}

func pgScanJob(row pgx.Row) (record, error) {
	var (
		raw              rawJob
		expires          *time.Time
		created, updated time.Time
	)
	if err := row.Scan(raw.dests(&expires, &created, &updated)...); err != nil {
		return record{}, err
	}
	return raw.record(expires, created, updated)
}

// pgExpires is the lease_expires_at column: NULL when nobody holds the job.
func pgExpires(l Lease) *time.Time {
	if l.Owner == "" {
		return nil
	}
	return &l.Expires
}
