package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestStartStopRestartClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err) // no silent skip: a machine without PostgreSQL fails with InstallHint
	}
	psql := func() error {
		return c.Command(ctx, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", c.User, "-d", c.Database, "-Atc", "select 1").Run()
	}
	if err := psql(); err != nil {
		t.Fatalf("psql against fresh cluster: %v", err)
	}
	if err := c.StopServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := psql(); err == nil {
		t.Fatal("server answers after stop")
	}
	if err := c.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := psql(); err != nil {
		t.Fatalf("psql after restart: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cluster folder left behind: %v", err)
	}
}

func TestFindBinDirExplainsWhatToInstall(t *testing.T) {
	_, err := FindBinDir(filepath.Join(t.TempDir(), "nowhere"))
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("err = %v", err)
	}
}
