package database

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/rs/zerolog"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrate applies the embedded migrations with goose, under a PostgreSQL session advisory lock
// so that several replicas starting at once apply each migration exactly once: the others wait for
// the lock, then find nothing left to do. It returns the schema version reached.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *zerolog.Logger) (int64, error) {
	fsys, err := fs.Sub(embedded, "migrations")
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 120)) // poll every 1 s, for up to 2 min
	if err != nil {
		return 0, fmt.Errorf("migrate: advisory locker: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer func() { _ = db.Close() }()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			log.Info().Int64("migration_version", r.Source.Version).Str("file", r.Source.Path).Dur("duration_ms", r.Duration).Msg("migration applied")
		}
	}
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: read version: %w", err)
	}
	return v, nil
}

// MigrateWithRetry runs Migrate, retrying while the database is unavailable (it may start after
// the service, as in a fresh cluster) for at most wait, with a growing pause between attempts.
func MigrateWithRetry(ctx context.Context, pool *pgxpool.Pool, log *zerolog.Logger, wait time.Duration) (int64, error) {
	deadline := time.Now().Add(wait)
	pause := 250 * time.Millisecond
	for {
		v, err := Migrate(ctx, pool, log)
		if err == nil || !IsUnavailable(err) || time.Now().Add(pause).After(deadline) {
			return v, err
		}
		log.Warn().Err(err).Dur("retry_in_ms", pause).Msg("database unavailable, migrations will be retried")
		select {
		case <-ctx.Done():
			return 0, errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}
