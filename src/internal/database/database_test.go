package database_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/config"
	"github.com/platform-template/template-api/src/internal/database"
	"github.com/platform-template/template-api/src/internal/pgcluster"
	"github.com/platform-template/template-api/src/internal/testdb"
)

var cluster *pgcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m, func(c *pgcluster.Cluster) { cluster = c }))
}

func admin(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestPasswordFileIsReadForEveryNewConnection(t *testing.T) {
	ctx := context.Background()
	a := admin(t)
	if _, err := a.Exec(ctx, `CREATE ROLE rotator LOGIN PASSWORD 'first-password'`); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte("first-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.DB{Host: "127.0.0.1", Port: cluster.Port, Name: cluster.Database, User: "rotator", PasswordFile: file,
		SSLMode: "disable", MaxConns: 2, ConnectTimeout: 2 * time.Second}
	pool, err := database.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("first password: %v", err)
	}

	// Rotate: the database and the mounted file change; new connections pick it up, no restart.
	if _, err := a.Exec(ctx, `ALTER ROLE rotator PASSWORD 'second-password'`); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("second-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pool.Reset() // what a connection lifetime expiry does in production
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("after rotation: %v", err)
	}

	// A wrong or missing file is an error naming the file problem, not a hang.
	if err := os.WriteFile(file, []byte("stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pool.Reset()
	if err := pool.Ping(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("stale password accepted or odd error: %v", err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	pool.Reset()
	if err := pool.Ping(ctx); err == nil || !strings.Contains(err.Error(), "read password file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestIAMAuthMintsATokenPerConnection(t *testing.T) {
	cfg := config.DB{Host: "db.abc123.eu-west-1.rds.amazonaws.com", Port: 5432, Name: "app", User: "app", IAMAuth: true,
		AWSRegion: "eu-west-1", SSLMode: "verify-full", SSLRootCert: writeCA(t), MaxConns: 4, ConnectTimeout: time.Second}
	creds := credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "not-a-real-secret-key-only-for-signing", "")
	pc, err := database.PoolConfig(cfg, creds)
	if err != nil {
		t.Fatal(err)
	}
	if pc.ConnConfig.Password != "" {
		t.Fatal("a static password is configured")
	}
	if pc.ConnConfig.TLSConfig == nil || pc.ConnConfig.TLSConfig.ServerName != cfg.Host {
		t.Fatalf("TLS not verifying the host: %+v", pc.ConnConfig.TLSConfig)
	}
	tokens := map[string]bool{}
	for range 2 {
		cc := pc.ConnConfig.Copy()
		if err := pc.BeforeConnect(context.Background(), cc); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse("https://" + cc.Password)
		if err != nil {
			t.Fatalf("token is not a presigned URL: %v", err)
		}
		q := u.Query()
		if u.Host != cfg.Host+":5432" || q.Get("Action") != "connect" || q.Get("DBUser") != "app" ||
			q.Get("X-Amz-Signature") == "" || !strings.Contains(q.Get("X-Amz-Credential"), "/eu-west-1/rds-db/") {
			t.Fatalf("token %q", cc.Password)
		}
		tokens[cc.Password] = true
		time.Sleep(1100 * time.Millisecond) // tokens carry their signing second
	}
	if len(tokens) != 2 {
		t.Fatal("the same token was reused for two connections")
	}
	if _, err := database.PoolConfig(cfg, nil); err == nil {
		t.Fatal("IAM auth without credentials accepted")
	}
}

// writeCA writes a self-signed CA certificate, standing in for the RDS CA bundle.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test RDS CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSSettingsAreEnforced(t *testing.T) {
	base := config.DB{Host: "db.internal", Port: 5432, Name: "app", User: "app", PasswordFile: "/dev/null", MaxConns: 1, ConnectTimeout: time.Second}
	full := base
	full.SSLMode, full.SSLRootCert = "verify-full", writeCA(t)
	pc, err := database.PoolConfig(full, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := pc.ConnConfig.TLSConfig
	if tc == nil || tc.InsecureSkipVerify && tc.VerifyPeerCertificate == nil || tc.ServerName != "db.internal" || tc.RootCAs == nil {
		t.Fatalf("verify-full does not verify: %+v", tc)
	}
	if len(pc.ConnConfig.Fallbacks) != 0 {
		t.Fatal("verify-full falls back to another mode")
	}
	missing := base
	missing.SSLMode, missing.SSLRootCert = "verify-full", filepath.Join(t.TempDir(), "absent.pem")
	if _, err := database.PoolConfig(missing, nil); err == nil || !strings.Contains(err.Error(), "absent.pem") {
		t.Fatalf("missing CA bundle: %v", err)
	}
}

func TestMigrationsUnderConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	a := admin(t)
	if _, err := a.Exec(ctx, `CREATE DATABASE concurrent_start`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(cluster.URL())
	u.Path = "/concurrent_start"
	const replicas = 6
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	versions := make([]int64, replicas)
	nop := zerolog.Nop()
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := pgxpool.New(ctx, u.String())
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			versions[i], errs[i] = database.Migrate(ctx, pool, &nop)
		}()
	}
	wg.Wait()
	for i := range replicas {
		if errs[i] != nil || versions[i] != 2 {
			t.Fatalf("replica %d: version %d, %v", i, versions[i], errs[i])
		}
	}
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var applied int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id IN (1, 2) AND is_applied`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 2 {
		t.Fatalf("migrations 1 and 2 recorded %d times in all, want once each", applied)
	}
}

func TestIsUnavailable(t *testing.T) {
	refused := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		_, err = pgx.Connect(ctx, "postgres://x:y@127.0.0.1:"+strconv.Itoa(port)+"/db?sslmode=disable")
		return err
	}()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", refused, true},
		{"deadline", fmt.Errorf("items: get: %w", context.DeadlineExceeded), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure class 08", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"plain error", errors.New("boom"), false},
		{"no rows", pgx.ErrNoRows, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := database.IsUnavailable(tc.err); got != tc.want {
				t.Fatalf("IsUnavailable(%v) = %v", tc.err, got)
			}
		})
	}
}
