package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// settingNames reads the variable names from `api --help`, the table every setting is in.
func settingNames(t *testing.T) []string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var names []string
	table := false
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == "VARIABLE":
			table = true
		case table && len(f) > 0:
			names = append(names, f[0])
		}
	}
	if len(names) < 20 {
		t.Fatalf("read only %d variables from --help: %q", len(names), out.String())
	}
	return names
}

// capture is everything one run of the program showed: its log (stdout), stderr and the error
// main prints.
type capture struct{ stdout, stderr, err string }

func (c capture) all() string { return c.stdout + "\n" + c.stderr + "\n" + c.err }

func runCaptured(ctx context.Context, args []string, env map[string]string) capture {
	var stdout, stderr logBuffer
	err := run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr)
	c := capture{stdout: stdout.buf.String(), stderr: stderr.buf.String()}
	if err != nil {
		c.err = "api: " + printable(err) // what main writes to stderr
	}
	return c
}

// TestNoSecretInAnyOutput plants a secret in every configuration variable, one at a time, in
// every shape a secret takes (a bare token, a URL password, a password= parameter, a token as
// URL user), next to a database reached by URL or by host and password file (right or wrong), and runs
// the program until it gives up or serves. Nothing it prints (error, stderr, log) may contain a
// planted secret, nor the real database password.
//
// A bare token is refused by the validation of nearly every variable, and then the error must not
// echo it. The few variables that accept any name (database, user and host names) may see it
// repeated by the database's own errors at run time: names are not secrets.
func TestNoSecretInAnyOutput(t *testing.T) {
	secret := func() string {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return "S3cr3t" + hex.EncodeToString(b)
	}
	port := strconv.Itoa(cluster.Port)
	pwFile := filepath.Join(t.TempDir(), "db-password")
	if err := os.WriteFile(pwFile, []byte(cluster.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongPassword := secret()
	wrongFile := filepath.Join(t.TempDir(), "wrong-password")
	if err := os.WriteFile(wrongFile, []byte(wrongPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0", "SHUTDOWN_DRAIN_DELAY": "0s",
		"DB_CONNECT_TIMEOUT": "200ms", "DB_QUERY_TIMEOUT": "200ms", "LOG_LEVEL": "debug",
	}
	bases := map[string]map[string]string{
		"url":                 {"DATABASE_URL": cluster.URL()},
		"password file":       {"DB_HOST": "127.0.0.1", "DB_PORT": port, "DB_NAME": cluster.Database, "DB_USER": cluster.User, "DB_PASSWORD_FILE": pwFile, "DB_SSLMODE": "disable"},
		"wrong password file": {"DB_HOST": "127.0.0.1", "DB_PORT": port, "DB_NAME": cluster.Database, "DB_USER": cluster.User, "DB_PASSWORD_FILE": wrongFile, "DB_SSLMODE": "disable"},
	}
	// A name is not a secret: where a variable takes a database, user or host name, the database's
	// own errors repeat it at run time (never in a configuration error). echoOK lists them.
	names := []string{"DB_HOST", "DB_NAME", "DB_USER"}
	plantings := []struct {
		name   string
		make   func(s string) string
		echoOK []string
	}{
		{"bare token", func(s string) string { return s }, names},
		{"URL password", func(s string) string { return "postgres://app:" + s + "@127.0.0.1:" + port + "/app?sslmode=disable" }, nil},
		{"URL password, no server", func(s string) string { return "postgres://app:" + s + "@127.0.0.1:1/app?sslmode=disable" }, nil},
		{"URL password, bad parameter", func(s string) string { return "postgres://app:" + s + "@127.0.0.1:1/app?sslmode=bogus" }, nil},
		{"URL password, bad port", func(s string) string { return "postgres://app:" + s + "@127.0.0.1:99x/app" }, nil},
		{"URL password parameter", func(s string) string {
			return "postgres://app@127.0.0.1:" + port + "/app?sslmode=disable&password=" + s
		}, nil},
		{"token as URL user", func(s string) string { return "postgres://" + s + "@127.0.0.1:1/app" }, []string{"DATABASE_URL"}},
		{"key=value password", func(s string) string { return "host=127.0.0.1 port=" + port + " password=" + s }, nil},
		{"quoted key=value password", func(s string) string { return "password='" + s + " x' host=h" }, nil},
		{"path with a password parameter", func(s string) string { return "/run/secrets/db?password=" + s }, nil},
	}
	for _, name := range settingNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for baseName, base := range bases {
				for _, p := range plantings {
					s := secret()
					env := map[string]string{}
					for k, v := range common {
						env[k] = v
					}
					for k, v := range base {
						env[k] = v
					}
					env[name] = p.make(s)
					ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
					c := runCaptured(ctx, nil, env)
					cancel()
					out := c.all()
					if strings.Contains(out, cluster.Password) || strings.Contains(out, wrongPassword) {
						t.Errorf("%s=%s (%s): a database password is in the output:\n%s", name, p.name, baseName, out)
					}
					if !strings.Contains(out, s) {
						continue
					}
					if !strings.Contains(c.err, "config:") && slices.Contains(p.echoOK, name) {
						continue // a name the database's own error repeats at run time
					}
					t.Errorf("%s=%s (%s): the planted secret is in the output:\n%s", name, p.name, baseName, out)
				}
			}
		})
	}
}

// TestNoSecretInHelpOrArguments: --help shows defaults, never the environment's values, and an
// unknown argument (someone pasting a connection string as an argument) is not echoed.
func TestNoSecretInHelpOrArguments(t *testing.T) {
	const s = "S3cr3tFromTheEnvironment"
	env := map[string]string{}
	for _, name := range settingNames(t) {
		env[name] = "postgres://app:" + s + "@db/app?password=" + s
	}
	for _, args := range [][]string{{"--help"}, {"version"}, {"postgres://app:" + s + "@db/app"}, {"serve", "password=" + s}, {s}} {
		c := runCaptured(context.Background(), args, env)
		if strings.Contains(c.all(), s) {
			t.Errorf("api %q shows the secret:\n%s", args, c.all())
		}
	}
}
