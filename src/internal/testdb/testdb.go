// Package testdb gives integration tests a real PostgreSQL: a throwaway cluster (pgcluster)
// started once per test binary. Where no PostgreSQL can
// be started the tests fail with what to install; they never skip silently.
package testdb

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/database"
	"github.com/platform-template/template-api/src/internal/pgcluster"
)

// Main runs the package's tests with a cluster: it starts one, runs m, removes it, and returns the
// exit code for os.Exit. The cluster is handed to setup before the tests run.
func Main(m *testing.M, setup func(*pgcluster.Cluster)) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := pgcluster.Start(ctx, pgcluster.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: integration tests need PostgreSQL: %v\n", err)
		return 1
	}
	defer func() {
		if err := c.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: cleanup: %v\n", err)
		}
	}()
	setup(c)
	return m.Run()
}

// Pool opens a migrated pool on url for one test and closes it when the test ends.
func Pool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	nop := zerolog.Nop()
	if _, err := database.Migrate(ctx, pool, &nop); err != nil {
		t.Fatal(err)
	}
	return pool
}
