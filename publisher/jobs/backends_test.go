package jobs_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"github.com/haulout/haulout/migrations"
	"github.com/haulout/haulout/publisher/jobs"
)

// backend is one database the shared suite runs against.
type backend struct {
	name string
	// setup skips or fails the test when the database is not there.
	setup func(tb testing.TB)
	// fresh returns the Config of a new, empty database, removed when the
	// test ends. Every Open of it reaches the same database.
	fresh func(tb testing.TB) jobs.Config
	// sql opens database/sql on cfg's database, as golang-migrate's driver
	// for it wants, and names that driver.
	sql func(tb testing.TB, cfg jobs.Config) (*sql.DB, string)
}

func backends() []backend {
	return []backend{
		{name: "sqlite", setup: func(testing.TB) {}, fresh: freshSQLite, sql: sqliteDB},
		{name: "postgres", setup: requirePostgres, fresh: freshPostgres, sql: postgresDB},
	}
}

func freshSQLite(tb testing.TB) jobs.Config {
	// A folder that does not exist yet: Open creates it.
	return jobs.Config{Path: filepath.Join(tb.TempDir(), "state", "jobs.db")}
}

func sqliteDB(tb testing.TB, cfg jobs.Config) (*sql.DB, string) {
	db, err := sql.Open("sqlite", "file:"+cfg.Path+"?_busy_timeout=10000")
	if err != nil {
		tb.Fatal(err)
	}
	return db, "sqlite"
}

// requirePostgres skips the test when DATABASE_URL is unset or unreachable,
// except in CI (CI=true), where a missing Postgres is a failure.
func requirePostgres(tb testing.TB) {
	tb.Helper()
	ci := os.Getenv("CI") == "true"
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		if ci {
			tb.Fatal("CI=true but DATABASE_URL is not set; .ci/run exports it")
		}
		tb.Skip("DATABASE_URL is not set: skipping the Postgres backend (bash .ci/run starts Postgres and sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		if ci {
			tb.Fatalf("CI=true and Postgres at DATABASE_URL is unreachable: %v", err)
		}
		tb.Skipf("Postgres at DATABASE_URL is unreachable, skipping the Postgres backend: %v", err)
	}
}

// freshPostgres makes a schema of its own in DATABASE_URL's database and
// returns a URL whose search_path is that schema.
func freshPostgres(tb testing.TB) jobs.Config {
	tb.Helper()
	dsn := os.Getenv("DATABASE_URL")
	var b [6]byte
	rand.Read(b[:])
	schema := "jobs_test_" + hex.EncodeToString(b[:])
	pgAdmin(tb, dsn, "CREATE SCHEMA "+schema)
	tb.Cleanup(func() { pgAdmin(tb, dsn, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return jobs.Config{DatabaseURL: u.String()}
}

func pgAdmin(tb testing.TB, dsn, stmt string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		tb.Fatalf("%s: %v", stmt, err)
	}
}

func postgresDB(tb testing.TB, cfg jobs.Config) (*sql.DB, string) {
	db, err := sql.Open("pgx/v5", cfg.DatabaseURL)
	if err != nil {
		tb.Fatal(err)
	}
	return db, "pgx5"
}

// schemaVersion reads golang-migrate's table.
func schemaVersion(tb testing.TB, b backend, cfg jobs.Config) (version int, dirty bool) {
	tb.Helper()
	db, _ := b.sql(tb, cfg)
	defer db.Close()
	if err := db.QueryRow(`SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty); err != nil {
		tb.Fatal(err)
	}
	return version, dirty
}

// migrator is golang-migrate on cfg's database, with the embedded files.
func migrator(tb testing.TB, b backend, cfg jobs.Config) *migrate.Migrate {
	tb.Helper()
	db, name := b.sql(tb, cfg)
	var (
		files fs.FS
		drv   database.Driver
		err   error
	)
	switch name {
	case "sqlite":
		files = migrations.SQLite()
		drv, err = migratesqlite.WithInstance(db, &migratesqlite.Config{})
	case "pgx5":
		files = migrations.Postgres()
		drv, err = migratepgx.WithInstance(db, &migratepgx.Config{})
	}
	if err != nil {
		tb.Fatal(err)
	}
	src, err := iofs.New(files, ".")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := migrate.NewWithInstance("iofs", src, name, drv)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}
