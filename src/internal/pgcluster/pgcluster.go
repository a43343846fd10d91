// Package pgcluster holds a throwaway PostgreSQL cluster made with the server binaries found on the
// machine (initdb, pg_ctl): for `make run`, the benchmarks and the integration tests. It listens on
// 127.0.0.1 on a free port with a random password, and Close removes every file it made.
//
// initdb refuses to run as root, so when the caller is root the server binaries run as the
// `postgres` system user through runuser (util-linux), and the data folder is given to that user.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// InstallHint says what to do when no PostgreSQL server binaries are found.
const InstallHint = "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH, in PG_BINDIR " +
	"or under /usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql) or set PG_BINDIR, " +
	"or point DATABASE_URL at a running server"

// ErrNoBinaries is returned (wrapped) when initdb or pg_ctl cannot be found.
var ErrNoBinaries = errors.New(InstallHint)

// Cluster is one running (or stopped) throwaway PostgreSQL cluster.
type Cluster struct {
	BinDir   string
	Dir      string // holds data/ and the log; removed by Close
	Port     int
	User     string
	Password string
	Database string
	runAs    string // "" or the system user that owns the data folder
}

// Options tune Start. The zero value is fine.
type Options struct {
	// Database to create besides "postgres"; default "app".
	Database string
	// User (role) to create as the cluster's superuser; default "app".
	User string
	// Settings are extra postgresql.conf lines, e.g. "max_connections = 200".
	Settings []string
	// Log receives progress lines; nil means none.
	Log func(format string, args ...any)
}

// Start makes and starts a new cluster. It takes about 1-3 s.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	if opt.Database == "" {
		opt.Database = "app"
	}
	if opt.User == "" {
		opt.User = "app"
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := FindBinDir(os.Getenv("PG_BINDIR"))
	if err != nil {
		return nil, err
	}
	runAs, err := systemUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgcluster-")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: temp dir: %w", err)
	}
	c := &Cluster{BinDir: bin, Dir: dir, User: opt.User, Database: opt.Database, runAs: runAs, Password: randomHex(16)}
	ok := false
	defer func() {
		if !ok {
			_ = c.Close()
		}
	}()
	if runAs != "" {
		if err := chownTo(dir, runAs); err != nil {
			return nil, err
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("pgcluster: password file: %w", err)
	}
	if runAs != "" {
		if err := chownTo(pwfile, runAs); err != nil {
			return nil, err
		}
	}
	logf("pgcluster: initdb in %s (about 1 s)", dir)
	if out, err := c.cmd(ctx, "initdb", "-D", c.dataDir(), "-U", c.User, "--pwfile", pwfile,
		"--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgcluster: initdb: %w: %s", err, lastLines(out))
	}
	_ = os.Remove(pwfile)
	conf := append([]string{
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = ''",
		"fsync = off", "synchronous_commit = off", "full_page_writes = off",
		"max_connections = 200",
		"shared_buffers = 128MB",
	}, opt.Settings...)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: postgresql.conf: %w", err)
	}
	_, werr := f.WriteString("\n# pgcluster (throwaway cluster)\n" + strings.Join(conf, "\n") + "\n")
	if cerr := f.Close(); werr != nil || cerr != nil {
		return nil, fmt.Errorf("pgcluster: postgresql.conf: %w", errors.Join(werr, cerr))
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.StartServer(ctx); err != nil {
		return nil, err
	}
	if out, err := c.cmd(ctx, "createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", c.User, c.Database).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgcluster: createdb: %w: %s", err, lastLines(out))
	}
	logf("pgcluster: PostgreSQL listening on 127.0.0.1:%d, database %s", c.Port, c.Database)
	ok = true
	return c, nil
}

// URL is the connection URL of the cluster's database (password included).
func (c *Cluster) URL() string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(c.User, c.Password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)), Path: "/" + c.Database, RawQuery: "sslmode=disable"}
	return u.String()
}

// StartServer starts the server of an existing cluster (after StopServer) and waits until it
// accepts connections.
func (c *Cluster) StartServer(ctx context.Context) error {
	if out, err := c.cmd(ctx, "pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, "postgres.log"),
		"-o", "-p "+strconv.Itoa(c.Port), "-w", "-t", "30", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("pgcluster: pg_ctl start: %w: %s %s", err, lastLines(out), c.logTail())
	}
	return nil
}

// StopServer stops the server at once (mode immediate: open connections are cut, as in an outage).
func (c *Cluster) StopServer(ctx context.Context) error {
	if out, err := c.cmd(ctx, "pg_ctl", "-D", c.dataDir(), "-m", "immediate", "-w", "-t", "30", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, lastLines(out))
	}
	return nil
}

// Close stops the server if it runs and removes the cluster's files.
func (c *Cluster) Close() error {
	var errs []error
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errs = append(errs, c.StopServer(ctx))
	}
	errs = append(errs, os.RemoveAll(c.Dir))
	return errors.Join(errs...)
}

// Command returns a command running a binary of the cluster's PostgreSQL installation (pgbench,
// psql) as the cluster's system user, with PGPASSWORD set.
func (c *Cluster) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return c.cmd(ctx, name, args...)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.BinDir, name)
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath(name); lerr == nil {
			path = p
		}
	}
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "PGPASSWORD="+c.Password, "LC_ALL=C")
	return cmd
}

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postgres.log"))
	if err != nil {
		return ""
	}
	return "log: " + lastLines(b)
}

// FindBinDir finds the folder holding initdb and pg_ctl: dir if given, else PATH, else the
// newest /usr/lib/postgresql/*/bin.
func FindBinDir(dir string) (string, error) {
	has := func(d string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(d, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("pgcluster: PG_BINDIR=%s: %w", dir, ErrNoBinaries)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgcluster: %w", ErrNoBinaries)
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// systemUser returns "" when the caller may run initdb itself, else the user to run it as.
func systemUser() (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return "", fmt.Errorf("pgcluster: running as root, initdb refuses root and there is no `postgres` user to run it as: create one (useradd --system postgres) or run as a non-root user: %w", err)
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return "", fmt.Errorf("pgcluster: running as root needs runuser (util-linux) to run initdb as postgres: %w", err)
	}
	return "postgres", nil
}

func chownTo(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("pgcluster: user %s: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("pgcluster: chown %s: %w", path, err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(b, nil))), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
