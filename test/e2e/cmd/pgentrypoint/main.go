// Command pgentrypoint is the entrypoint of the PostgreSQL image the tests' local node assembles
// from Debian's PostgreSQL (test/e2e/internal/images): it honours the variables of the official
// image's docker-entrypoint.sh that k8s/overlays/kind sets, so the same StatefulSet runs on it.
//
// On an empty $PGDATA it runs initdb with $POSTGRES_USER as superuser and the password from
// $POSTGRES_PASSWORD_FILE (SCRAM over TCP; the socket stays for the container's own probes),
// creates $POSTGRES_DB in single-user mode, then in every case execs the command given
// (`postgres`) with listen_addresses='*'.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "pgentrypoint: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "postgres" {
		return fmt.Errorf("usage: pgentrypoint postgres [options]; got %q", args)
	}
	data := getenv("PGDATA")
	user := or(getenv("POSTGRES_USER"), "postgres")
	db := or(getenv("POSTGRES_DB"), user)
	pwFile := getenv("POSTGRES_PASSWORD_FILE")
	if data == "" || pwFile == "" {
		return errors.New("PGDATA and POSTGRES_PASSWORD_FILE must be set")
	}
	if !validName(user) || !validName(db) {
		return fmt.Errorf("POSTGRES_USER and POSTGRES_DB must be simple identifiers")
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initialize(data, user, db, pwFile, stdout, stderr); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	postgres, err := exec.LookPath("postgres")
	if err != nil {
		return err
	}
	argv := append([]string{"postgres", "-D", data, "-c", "listen_addresses=*"}, args[1:]...)
	return syscall.Exec(postgres, argv, os.Environ())
}

func initialize(data, user, db, pwFile string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "pgentrypoint: initializing %s (superuser %s, database %s)\n", data, user, db)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	initdb := exec.Command("initdb", "-D", data, "-U", user, "--pwfile="+pwFile, "--no-locale", "-E", "UTF8",
		"--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync")
	initdb.Stdout, initdb.Stderr = stdout, stderr
	if err := initdb.Run(); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = hba.WriteString("\n# Any address, with a password (the NetworkPolicy decides who may connect).\nhost all all all scram-sha-256\n")
	if cerr := hba.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if db == "postgres" {
		return nil
	}
	single := exec.Command("postgres", "--single", "-D", data, "-j", "postgres")
	single.Stdin = strings.NewReader(fmt.Sprintf("CREATE DATABASE %q OWNER %q;\n", db, user))
	var out bytes.Buffer
	single.Stdout, single.Stderr = &out, &out
	if err := single.Run(); err != nil {
		return fmt.Errorf("create database %s: %w: %s", db, err, out.String())
	}
	if strings.Contains(out.String(), "ERROR") {
		return fmt.Errorf("create database %s: %s", db, out.String())
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
