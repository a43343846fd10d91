package config

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

const localURL = "postgres://app:secret@127.0.0.1:5432/app"

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env("DATABASE_URL", localURL))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.MetricsAddr != ":9090" || c.MaxBodyBytes != 1<<20 || c.DB.QueryTimeout != 2*time.Second ||
		c.ShutdownDrainDelay != 5*time.Second || c.ShutdownTimeout != 15*time.Second || !c.DB.MigrateOnStart ||
		c.DB.MaxConns != 10 || c.Env != EnvDevelopment || c.DB.CredentialSource() != "url" || c.MaxHeaderBytes != 16384 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name   string
		env    func(string) string
		source string
	}{
		{"password file", env("DB_HOST", "db.internal", "DB_PASSWORD_FILE", "/var/run/secrets/db/password"), "password-file"},
		{"iam in production", env("APP_ENV", "production", "DB_HOST", "db.abc.eu-west-1.rds.amazonaws.com", "DB_IAM_AUTH", "true",
			"AWS_REGION", "eu-west-1", "DB_SSLMODE", "verify-full", "DB_SSLROOTCERT", "/etc/rds/ca.pem"), "iam"},
		{"metrics off", env("DATABASE_URL", localURL, "METRICS_ADDR", "off"), "url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.DB.CredentialSource(); got != tc.source {
				t.Fatalf("source = %s, want %s", got, tc.source)
			}
		})
	}
}

func TestLoadRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		env  func(string) string
		want string // the variable the one-line error must name
	}{
		{"no database", env(), "DATABASE_URL or DB_HOST is required"},
		{"bad env", env("DATABASE_URL", localURL, "APP_ENV", "prod"), `APP_ENV: must be "development" or "production"`},
		{"bad addr", env("DATABASE_URL", localURL, "HTTP_ADDR", "8080"), `HTTP_ADDR: must be host:port`},
		{"bad port in addr", env("DATABASE_URL", localURL, "HTTP_ADDR", ":99999"), "HTTP_ADDR"},
		{"same addrs", env("DATABASE_URL", localURL, "METRICS_ADDR", ":8080"), "METRICS_ADDR must differ"},
		{"bad level", env("DATABASE_URL", localURL, "LOG_LEVEL", "loud"), "LOG_LEVEL"},
		{"panic level refused", env("DATABASE_URL", localURL, "LOG_LEVEL", "panic"), "LOG_LEVEL"},
		{"bad body", env("DATABASE_URL", localURL, "MAX_BODY_BYTES", "1k"), "MAX_BODY_BYTES"},
		{"tiny body", env("DATABASE_URL", localURL, "MAX_BODY_BYTES", "10"), "MAX_BODY_BYTES"},
		{"bad duration", env("DATABASE_URL", localURL, "DB_QUERY_TIMEOUT", "fast"), "DB_QUERY_TIMEOUT"},
		{"duration out of range", env("DATABASE_URL", localURL, "SHUTDOWN_TIMEOUT", "1h"), "SHUTDOWN_TIMEOUT"},
		{"negative drain", env("DATABASE_URL", localURL, "SHUTDOWN_DRAIN_DELAY", "-1s"), "SHUTDOWN_DRAIN_DELAY"},
		{"bad url scheme", env("DATABASE_URL", "mysql://x"), "DATABASE_URL: must be a postgres:// URL"},
		{"url without host", env("DATABASE_URL", "postgres:///app"), "DATABASE_URL: must be a postgres:// URL"},
		{"url with a bad port", env("DATABASE_URL", "postgres://h:0/app"), "DATABASE_URL: must be a postgres:// URL"},
		{"url not a url", env("DATABASE_URL", "host=h password=p"), "DATABASE_URL: must be a postgres:// URL"},
		{"bad db name", env("DATABASE_URL", localURL, "DB_NAME", "app; drop"), "DB_NAME: must be 1 to 63"},
		{"long db user", env("DATABASE_URL", localURL, "DB_USER", strings.Repeat("u", 64)), "DB_USER: must be 1 to 63"},
		{"relative password file", env("DB_HOST", "h", "DB_PASSWORD_FILE", "secrets/pw"), "DB_PASSWORD_FILE: must be an absolute file path"},
		{"relative ca bundle", env("DB_HOST", "h", "DB_PASSWORD_FILE", "/f", "DB_SSLMODE", "verify-full", "DB_SSLROOTCERT", "ca.pem"), "DB_SSLROOTCERT: must be an absolute file path"},
		{"bad region", env("DB_HOST", "h", "DB_IAM_AUTH", "true", "DB_SSLMODE", "require", "AWS_REGION", "Ireland"), "AWS_REGION: must be an AWS region"},
		{"host with a port", env("DB_HOST", "db:5432", "DB_PASSWORD_FILE", "/f"), "DB_HOST: must be a host name"},
		{"bad bool", env("DATABASE_URL", localURL, "MIGRATE_ON_START", "yes please"), "MIGRATE_ON_START"},
		{"bad sslmode", env("DATABASE_URL", localURL, "DB_SSLMODE", "maybe"), "DB_SSLMODE"},
		{"bad max conns", env("DATABASE_URL", localURL, "DB_MAX_CONNS", "0"), "DB_MAX_CONNS"},
		{"bad db port", env("DB_HOST", "h", "DB_PASSWORD_FILE", "/f", "DB_PORT", "x"), "DB_PORT"},
		{"bad host", env("DB_HOST", "user@h", "DB_PASSWORD_FILE", "/f"), "DB_HOST"},
		{"url and host", env("DATABASE_URL", localURL, "DB_HOST", "h"), "DATABASE_URL and DB_HOST"},
		{"url with iam", env("DATABASE_URL", localURL, "DB_IAM_AUTH", "true"), "go with DB_HOST"},
		{"host without credentials", env("DB_HOST", "h"), "DB_HOST needs DB_IAM_AUTH=true or DB_PASSWORD_FILE"},
		{"iam and file", env("DB_HOST", "h", "DB_IAM_AUTH", "true", "DB_PASSWORD_FILE", "/f", "AWS_REGION", "eu-west-1", "DB_SSLMODE", "require"), "choose one credential source"},
		{"iam without region", env("DB_HOST", "h", "DB_IAM_AUTH", "true", "DB_SSLMODE", "require"), "AWS_REGION"},
		{"iam without tls", env("DB_HOST", "h", "DB_IAM_AUTH", "true", "AWS_REGION", "eu-west-1"), "DB_SSLMODE must be"},
		{"verify without ca", env("DB_HOST", "h", "DB_PASSWORD_FILE", "/f", "DB_SSLMODE", "verify-full"), "DB_SSLROOTCERT"},
		{"production with url", env("APP_ENV", "production", "DATABASE_URL", localURL), "APP_ENV=production"},
		{"production without verify-full", env("APP_ENV", "production", "DB_HOST", "h", "DB_PASSWORD_FILE", "/f", "DB_SSLMODE", "require"), "verify-full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "config: ") {
				t.Fatalf("error %q does not name %q on one line", msg, tc.want)
			}
		})
	}
}

// TestLoadNeverEchoesAValue sets each variable in turn to values that break its rule and hold a
// secret; the error names the variable and never shows the value.
func TestLoadNeverEchoesAValue(t *testing.T) {
	const secret = "S3cr3tValue"
	for _, s := range settings() {
		for _, v := range []string{secret, "postgres://app:" + secret + "@h:1/app x", "host=h password=" + secret, "x" + secret + "\x00"} {
			e := env("DATABASE_URL", localURL, s.name, v)
			if s.name == "DATABASE_URL" {
				e = env(s.name, v)
			}
			_, err := Load(e)
			if err == nil && v == secret && (s.name == "DB_NAME" || s.name == "DB_USER") {
				continue // a valid name: these two take any SQL name, and names are not secrets
			}
			if err == nil {
				t.Errorf("%s=%q accepted", s.name, v)
				continue
			}
			if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), s.name) {
				t.Errorf("%s=%q: error %q shows the value or does not name the variable", s.name, v, err)
			}
		}
	}
}

func TestPrintUsageListsEverySetting(t *testing.T) {
	var b bytes.Buffer
	if err := PrintUsage(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings() {
		if !strings.Contains(b.String(), s.name) {
			t.Errorf("usage lacks %s", s.name)
		}
	}
}
