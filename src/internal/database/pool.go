// Package database holds the service's link to PostgreSQL: the pgx pool with its credential
// sources (RDS IAM tokens, a mounted password file, or a URL), TLS, the embedded schema
// migrations, and the classification of errors that mean "the database is unavailable".
package database

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/platform-template/template-api/src/internal/config"
	"github.com/platform-template/template-api/src/internal/redact"
)

// PoolConfig builds the pool configuration for cfg. Credentials that change (IAM tokens, a
// rotated password file) are fetched in BeforeConnect, once for every new connection, so nothing
// long-lived holds a password. creds may be nil unless cfg.IAMAuth is set.
func PoolConfig(cfg config.DB, creds aws.CredentialsProvider) (*pgxpool.Config, error) {
	dsn := cfg.URL
	if dsn == "" {
		q := url.Values{}
		q.Set("sslmode", cfg.SSLMode)
		if cfg.SSLRootCert != "" {
			q.Set("sslrootcert", cfg.SSLRootCert)
		}
		u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
			Path: "/" + cfg.Name, RawQuery: q.Encode()}
		dsn = u.String()
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: parse connection settings: %w", redacted(err))
	}
	pc.MaxConns = cfg.MaxConns
	pc.MinConns = 0
	pc.MaxConnLifetime = 30 * time.Minute
	pc.MaxConnLifetimeJitter = 5 * time.Minute
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.HealthCheckPeriod = 15 * time.Second
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "template-api"

	switch cfg.CredentialSource() {
	case "iam":
		if creds == nil {
			return nil, errors.New("database: IAM auth needs AWS credentials")
		}
		endpoint := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
		pc.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			token, err := auth.BuildAuthToken(ctx, endpoint, cfg.AWSRegion, cfg.User, creds)
			if err != nil {
				return fmt.Errorf("database: mint RDS IAM auth token: %w", err)
			}
			cc.Password = token
			return nil
		}
	case "password-file":
		path := cfg.PasswordFile
		pc.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			pw, err := ReadPasswordFile(path)
			if err != nil {
				return err
			}
			cc.Password = pw
			return nil
		}
	}
	return pc, nil
}

// ReadPasswordFile reads a mounted secret file, dropping one trailing newline.
func ReadPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("database: read password file: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("database: password file %s is empty", path)
	}
	return pw, nil
}

// Open creates the pool. It does not wait for the database: connections are made on demand, so a
// database that is down at start makes /readyz answer 503 instead of stopping the process.
func Open(ctx context.Context, cfg config.DB) (*pgxpool.Pool, error) {
	var creds aws.CredentialsProvider
	if cfg.IAMAuth {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWSRegion))
		if err != nil {
			return nil, fmt.Errorf("database: load AWS configuration for IAM auth: %w", err)
		}
		creds = awsCfg.Credentials
	}
	pc, err := PoolConfig(cfg, creds)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("database: create pool: %w", redacted(err))
	}
	return pool, nil
}

// redacted masks the secrets pgx may quote in an error (it quotes the connection string it could
// not parse, and the URL parser's error quotes it again) and keeps the rest of the message, which
// says what was wrong.
func redacted(err error) error {
	msg := redact.Error(err)
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
