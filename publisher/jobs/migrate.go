package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// runMigrations brings the database behind drv up to the newest version in
// files, then closes drv (and the database handle it was given).
func runMigrations(ctx context.Context, backend string, files fs.FS, drv database.Driver, log *slog.Logger) error {
	src, err := iofs.New(files, ".")
	if err != nil {
		drv.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, backend, drv)
	if err != nil {
		src.Close()
		drv.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	defer m.Close()
	// golang-migrate takes no context; it stops between two migrations when
	// told to on GracefulStop.
	stop := context.AfterFunc(ctx, func() {
		select {
		case m.GracefulStop <- true:
		default:
		}
	})
	defer stop()
	err = m.Up()
	migrated := err == nil
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	version, dirty, err := m.Version()
	if err != nil {
		return fmt.Errorf("migrate: version: %w", err)
	}
	if dirty {
		return fmt.Errorf("migrate: schema version %d is dirty: a migration failed half-way and needs a hand", version)
	}
	log.Info("jobs schema", "backend", backend, "version", version, "migrated", migrated)
	return nil
}
