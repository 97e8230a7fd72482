package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/haulout/haulout/migrations"
)

// SQLite settings. busy_timeout is how long a connection waits for another
// process's write lock before it gives up with SQLITE_BUSY.
const (
	sqliteBusyTimeout = 10 * time.Second
	sqliteReaders     = 4
)

// sqliteStore keeps the jobs in one SQLite file (modernc.org/sqlite, pure
// Go). Writes go through one connection, in BEGIN IMMEDIATE transactions
// that take the database's write lock at once; reads go through a pool of
// read-only connections that WAL lets run beside the writer. Times come
// from this machine's clock.
type sqliteStore struct {
	w, r *sql.DB
}

func openSQLite(ctx context.Context, path string, log *slog.Logger) (*sqliteStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	busy := fmt.Sprint(sqliteBusyTimeout.Milliseconds())
	writer := sqliteDSN(abs, url.Values{
		"_busy_timeout": {busy},
		"_journal_mode": {"WAL"},
		// FULL: a commit is on disk before it returns, as with Postgres's
		// default synchronous_commit; NORMAL could lose the latest commits
		// in a power cut.
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
	})
	reader := sqliteDSN(abs, url.Values{
		"_busy_timeout": {busy},
		"_query_only":   {"1"},
	})
	if err := migrateSQLite(ctx, abs, writer, log); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", abs, err)
	}
	s := &sqliteStore{}
	if s.w, err = sql.Open("sqlite", writer); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetConnMaxIdleTime(0)
	s.w.SetConnMaxLifetime(0)
	if s.r, err = sql.Open("sqlite", reader); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(sqliteReaders)
	s.r.SetMaxIdleConns(sqliteReaders)
	if err := errors.Join(s.w.PingContext(ctx), s.r.PingContext(ctx)); err != nil {
		s.close()
		return nil, fmt.Errorf("sqlite %s: %w", abs, err)
	}
	return s, nil
}

// sqliteDSN is a file: URI, which keeps any character of the path (?, #, %)
// apart from the query that carries the driver's settings.
func sqliteDSN(path string, q url.Values) string {
	return (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(path), RawQuery: q.Encode()}).String()
}

// migrateSQLite applies the migrations with golang-migrate's sqlite driver,
// which uses modernc.org/sqlite. That driver's lock only keeps one migrate
// instance out of its own way, and the first connection to a new file
// switches it to WAL, which fails at once (SQLITE_BUSY, no busy wait) if
// another connection is doing the same. So a file lock beside the database
// serializes the whole first open and migration between processes (and
// between stores in one process) that open the database together.
func migrateSQLite(ctx context.Context, path, dsn string, log *slog.Logger) error {
	lockPath := path + ".migrate-lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := lockFile(ctx, f); err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	defer unlockFile(f)

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return err
	}
	drv, err := migratesqlite.WithInstance(db, &migratesqlite.Config{})
	if err != nil {
		db.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	return runMigrations(ctx, "sqlite", migrations.SQLite(), drv, log)
}

func (s *sqliteStore) name() string { return "sqlite" }

func (s *sqliteStore) close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// sqliteNow is the store's clock, at the precision that it keeps.
func sqliteNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// write runs fn in a write transaction (BEGIN IMMEDIATE) and commits it if
// fn returns nil.
func (s *sqliteStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// read runs fn in a read transaction: one snapshot of the database.
func (s *sqliteStore) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	err = fn(tx)
	return errors.Join(err, ignoreDone(tx.Rollback()))
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

func (s *sqliteStore) insert(ctx context.Context, build func(now time.Time) record) (record, error) {
	var r record
	err := s.write(ctx, func(tx *sql.Tx) error {
		r = build(sqliteNow())
		v, err := r.values()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO jobs (`+jobColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, v.blobID, r.Size, r.SpoolPath, string(v.options), string(r.State), r.Failure, r.Attempts, r.LastError,
			sqliteText(v.registration), sqliteText(v.certificate), sqliteText(v.result), v.owner, r.token,
			sqliteExpires(r.Lease), r.Created.UnixMicro(), r.Updated.UnixMicro())
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return ErrExists
		}
		return err
	})
	return r, err
}

func (s *sqliteStore) get(ctx context.Context, id string) (record, error) {
	var r record
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = sqliteScanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		rs := []record{r}
		if err := sqliteLoadNodes(ctx, tx, rs); err != nil {
			return err
		}
		r = rs[0]
		return nil
	})
	return r, err
}

func (s *sqliteStore) list(ctx context.Context, q listQuery) ([]record, error) {
	var rs []record
	err := s.read(ctx, func(tx *sql.Tx) error {
		var (
			rows *sql.Rows
			err  error
		)
		if q.expired {
			rows, err = tx.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
				WHERE state NOT IN ('done', 'failed') AND lease_owner IS NOT NULL
				AND coalesce(lease_expires_at, 0) <= ?
				ORDER BY coalesce(lease_expires_at, 0), id LIMIT ?`, sqliteNow().UnixMicro(), q.limit)
		} else {
			where, args := `id > ?`, []any{q.after}
			if len(q.states) > 0 {
				where += ` AND state IN (` + placeholders(len(q.states)) + `)`
				for _, st := range q.states {
					args = append(args, string(st))
				}
			}
			rows, err = tx.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE `+where+` ORDER BY id LIMIT ?`,
				append(args, q.limit)...)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := sqliteScanJob(rows)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return sqliteLoadNodes(ctx, tx, rs)
	})
	return rs, err
}

func (s *sqliteStore) modify(ctx context.Context, id string, fn func(r *record, now time.Time) ([]NodeProgress, error)) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		r, err := sqliteScanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		nodes, err := fn(&r, sqliteNow())
		if err != nil {
			return err
		}
		return sqliteSave(ctx, tx, &r, nodes)
	})
}

func (s *sqliteStore) claim(ctx context.Context, fn func(r *record, now time.Time)) (record, bool, error) {
	var (
		r     record
		found bool
	)
	// BEGIN IMMEDIATE holds the write lock from the start, so no other
	// connection, here or in another process, claims between the SELECT and
	// the UPDATE.
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := sqliteNow()
		var err error
		r, err = sqliteScanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs
			WHERE state NOT IN ('done', 'failed') AND coalesce(lease_expires_at, 0) <= ?
			ORDER BY coalesce(lease_expires_at, 0), id LIMIT 1`, now.UnixMicro()))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		fn(&r, now)
		if err := sqliteSave(ctx, tx, &r, nil); err != nil {
			return err
		}
		rs := []record{r}
		if err := sqliteLoadNodes(ctx, tx, rs); err != nil {
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

func (s *sqliteStore) releaseOwner(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
			WHERE lease_owner = ?`, sqliteNow().UnixMicro(), owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (s *sqliteStore) prune(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_at < ?`,
			before.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// sqliteSave writes the record's mutable columns and upserts nodes.
func sqliteSave(ctx context.Context, tx *sql.Tx, r *record, nodes []NodeProgress) error {
	v, err := r.values()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE jobs SET blob_id = ?, state = ?, failure = ?, attempts = ?,
		last_error = ?, registration = ?, certificate = ?, result = ?,
		lease_owner = ?, lease_token = ?, lease_expires_at = ?, updated_at = ?
		WHERE id = ?`,
		v.blobID, string(r.State), r.Failure, r.Attempts, r.LastError,
		sqliteText(v.registration), sqliteText(v.certificate), sqliteText(v.result),
		v.owner, r.token, sqliteExpires(r.Lease), r.Updated.UnixMicro(), r.ID)
	if err != nil || len(nodes) == 0 {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO job_nodes (`+nodeColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (job_id, node_id) DO UPDATE SET state = excluded.state,
			attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, n := range nodes {
		if _, err := stmt.ExecContext(ctx, r.ID, n.Node, string(n.State), n.Attempts, n.LastError, n.Updated.UnixMicro()); err != nil {
			return err
		}
	}
	return nil
}

// sqliteLoadNodes fills in the nodes of rs.
func sqliteLoadNodes(ctx context.Context, tx *sql.Tx, rs []record) error {
	if len(rs) == 0 {
		return nil
	}
	args := make([]any, len(rs))
	for i, r := range rs {
		args[i] = r.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+nodeColumns+` FROM job_nodes
		WHERE job_id IN (`+placeholders(len(rs))+`) ORDER BY job_id, node_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	nodes := map[string][]NodeProgress{}
	for rows.Next() {
		var (
			n       rawNode
			updated int64
		)
		if err := rows.Scan(n.dests(&updated)...); err != nil {
			return err
		}
		nodes[n.job] = append(nodes[n.job], n.progress(time.UnixMicro(updated)))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	attachNodes(rs, nodes)
	return nil
}

func sqliteScanJob(row interface{ Scan(...any) error }) (record, error) {
	var (
		raw              rawJob
		expires          *int64
		created, updated int64
	)
	if err := row.Scan(raw.dests(&expires, &created, &updated)...); err != nil {
		return record{}, err
	}
	var exp *time.Time
	if expires != nil {
		t := time.UnixMicro(*expires)
		exp = &t
	}
	return raw.record(exp, time.UnixMicro(created), time.UnixMicro(updated))
}

// sqliteText binds JSON as TEXT (a []byte would be a BLOB, which the STRICT
// schema refuses), and absent JSON as NULL.
func sqliteText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// sqliteExpires is the lease_expires_at column: NULL when nobody holds the
// job.
func sqliteExpires(l Lease) any {
	if l.Owner == "" {
		return nil
	}
	return l.Expires.UnixMicro()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
