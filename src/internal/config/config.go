// Package config holds the service's configuration: every setting, its environment variable,
// its default and its validation, in one table that also prints the --help text.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/rs/zerolog"
)

// Environments the service knows. Production turns on the strict database TLS rules.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Config is the validated configuration of one process.
type Config struct {
	Env         string
	HTTPAddr    string
	MetricsAddr string // empty (METRICS_ADDR=off): no metrics listener
	LogLevel    zerolog.Level

	MaxBodyBytes       int64
	ReadHeaderTimeout  time.Duration
	ReadTimeout        time.Duration
	WriteTimeout       time.Duration
	IdleTimeout        time.Duration
	MaxHeaderBytes     int
	ShutdownDrainDelay time.Duration
	ShutdownTimeout    time.Duration

	DB DB
}

// DB is the database part of the configuration.
type DB struct {
	// URL is a full connection string, for local work. Mutually exclusive with Host.
	URL string
	// Host, Port, Name and User describe the server when credentials come from IAM or a file.
	Host string
	Port int
	Name string
	User string
	// PasswordFile is read at every new connection (rotation without restart).
	PasswordFile string
	// IAMAuth mints an RDS IAM authentication token for every new connection.
	IAMAuth   bool
	AWSRegion string

	SSLMode     string
	SSLRootCert string

	MaxConns       int32
	QueryTimeout   time.Duration
	ConnectTimeout time.Duration
	MigrateOnStart bool
}

// CredentialSource names where database credentials come from, in order of preference.
func (d DB) CredentialSource() string {
	switch {
	case d.IAMAuth:
		return "iam"
	case d.PasswordFile != "":
		return "password-file"
	default:
		return "url"
	}
}

// setting is one row of the configuration table.
type setting struct {
	name, def, help string
	apply           func(c *Config, v string) error
}

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// settings is the whole configuration surface. It is a function, not a package variable, so that
// nothing global exists and each Load starts from a fresh table.
func settings() []setting {
	return []setting{
		{"APP_ENV", EnvDevelopment, "development or production (production requires verified database TLS)", func(c *Config, v string) error {
			if v != EnvDevelopment && v != EnvProduction {
				return fmt.Errorf("must be %q or %q", EnvDevelopment, EnvProduction)
			}
			c.Env = v
			return nil
		}},
		{"HTTP_ADDR", ":8080", "address of the API listener", addr(func(c *Config) *string { return &c.HTTPAddr }, false)},
		{"METRICS_ADDR", ":9090", "address of the Prometheus /metrics listener (off: none)", addr(func(c *Config) *string { return &c.MetricsAddr }, true)},
		{"LOG_LEVEL", "info", "trace, debug, info, warn or error", func(c *Config, v string) error {
			l, err := zerolog.ParseLevel(v)
			if err != nil || l == zerolog.NoLevel || l > zerolog.ErrorLevel {
				return errors.New("must be one of trace, debug, info, warn, error")
			}
			c.LogLevel = l
			return nil
		}},
		{"MAX_BODY_BYTES", "1048576", "largest accepted request body in bytes (larger: 413)", func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 || n > 64<<20 {
				return errors.New("must be a whole number of bytes from 1024 to 67108864")
			}
			c.MaxBodyBytes = n
			return nil
		}},
		{"HTTP_READ_HEADER_TIMEOUT", "5s", "time allowed to read request headers", duration(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }, time.Second, time.Minute)},
		{"HTTP_READ_TIMEOUT", "15s", "time allowed to read a whole request", duration(func(c *Config) *time.Duration { return &c.ReadTimeout }, time.Second, 5*time.Minute)},
		{"HTTP_WRITE_TIMEOUT", "15s", "time allowed to write a response", duration(func(c *Config) *time.Duration { return &c.WriteTimeout }, time.Second, 5*time.Minute)},
		{"HTTP_IDLE_TIMEOUT", "60s", "keep-alive idle time", duration(func(c *Config) *time.Duration { return &c.IdleTimeout }, time.Second, 10*time.Minute)},
		{"HTTP_MAX_HEADER_BYTES", "16384", "largest accepted request header block in bytes", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 4096 || n > 1<<20 {
				return errors.New("must be a whole number of bytes from 4096 to 1048576")
			}
			c.MaxHeaderBytes = n
			return nil
		}},
		{"SHUTDOWN_DRAIN_DELAY", "5s", "after SIGTERM: /readyz answers 503 and serving goes on this long", duration(func(c *Config) *time.Duration { return &c.ShutdownDrainDelay }, 0, 2*time.Minute)},
		{"SHUTDOWN_TIMEOUT", "15s", "then: time in-flight requests get to finish", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, time.Second, 5*time.Minute)},
		{"DATABASE_URL", "", "full PostgreSQL URL, for local work (not with DB_HOST)", func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || strings.ContainsFunc(v, unicode.IsSpace) || strings.ContainsFunc(v, unicode.IsControl) || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" || u.Port() != "" && !isPort(u.Port()) {
				return errors.New("must be a postgres:// URL with a host (the value is not shown: it may hold a password)")
			}
			c.DB.URL = v
			return nil
		}},
		{"DB_HOST", "", "database host (with IAM auth or DB_PASSWORD_FILE)", func(c *Config, v string) error {
			if v != "" && !hostName.MatchString(v) && net.ParseIP(v) == nil {
				return errors.New("must be a host name or IP address")
			}
			c.DB.Host = v
			return nil
		}},
		{"DB_PORT", "5432", "database port", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return errors.New("must be a port number from 1 to 65535")
			}
			c.DB.Port = n
			return nil
		}},
		{"DB_NAME", "app", "database name", identifier(func(c *Config) *string { return &c.DB.Name })},
		{"DB_USER", "app", "database user", identifier(func(c *Config) *string { return &c.DB.User })},
		{"DB_PASSWORD_FILE", "", "file holding the password, re-read for every new connection", path(func(c *Config) *string { return &c.DB.PasswordFile })},
		{"DB_IAM_AUTH", "false", "true: mint an RDS IAM auth token for every new connection", boolean(func(c *Config) *bool { return &c.DB.IAMAuth })},
		{"AWS_REGION", "", "AWS region of the database (IAM auth)", func(c *Config, v string) error {
			if v != "" && !awsRegion.MatchString(v) {
				return errors.New("must be an AWS region such as eu-west-1")
			}
			c.DB.AWSRegion = v
			return nil
		}},
		{"DB_SSLMODE", "prefer", strings.Join(sslModes, ", ") + " (with DB_HOST; production: verify-full)", func(c *Config, v string) error {
			for _, m := range sslModes {
				if v == m {
					c.DB.SSLMode = v
					return nil
				}
			}
			return fmt.Errorf("must be one of %s", strings.Join(sslModes, ", "))
		}},
		{"DB_SSLROOTCERT", "", "CA bundle that verifies the database certificate (with DB_HOST)", path(func(c *Config) *string { return &c.DB.SSLRootCert })},
		{"DB_MAX_CONNS", "10", "largest number of pooled connections", func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 1 || n > 1000 {
				return errors.New("must be a whole number from 1 to 1000")
			}
			c.DB.MaxConns = int32(n)
			return nil
		}},
		{"DB_QUERY_TIMEOUT", "2s", "bound on each database call made for a request", duration(func(c *Config) *time.Duration { return &c.DB.QueryTimeout }, 10*time.Millisecond, time.Minute)},
		{"DB_CONNECT_TIMEOUT", "2s", "bound on opening one database connection", duration(func(c *Config) *time.Duration { return &c.DB.ConnectTimeout }, 100*time.Millisecond, time.Minute)},
		{"MIGRATE_ON_START", "true", "apply the embedded schema migrations at start", boolean(func(c *Config) *bool { return &c.DB.MigrateOnStart })},
	}
}

// Load reads every setting through getenv, applies defaults, and validates each value and the
// rules that tie several together. The first problem is returned as one line naming the variable
// and the rule it breaks, never the value.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	for _, s := range settings() {
		v, set := getenv(s.name), true
		if v == "" {
			v, set = s.def, false
		}
		if err := s.apply(&c, v); err != nil {
			// The value itself is never quoted: any variable may hold a secret (a connection
			// string pasted in the wrong place), and this message ends up in logs and in the
			// pod's termination message. The name and the rule are enough to fix it.
			if !set {
				return Config{}, fmt.Errorf("config: %s: default %w", s.name, err)
			}
			return Config{}, fmt.Errorf("config: %s: %w", s.name, err)
		}
	}
	if err := c.validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func (c Config) validate() error {
	d := c.DB
	switch {
	case d.URL != "" && d.Host != "":
		return errors.New("DATABASE_URL and DB_HOST are both set: use one way to reach the database")
	case d.URL == "" && d.Host == "":
		return errors.New("DATABASE_URL or DB_HOST is required")
	case d.URL != "" && (d.IAMAuth || d.PasswordFile != ""):
		return errors.New("DB_IAM_AUTH and DB_PASSWORD_FILE go with DB_HOST, not DATABASE_URL")
	case d.IAMAuth && d.PasswordFile != "":
		return errors.New("DB_IAM_AUTH and DB_PASSWORD_FILE are both set: choose one credential source")
	case d.IAMAuth && d.AWSRegion == "":
		return errors.New("AWS_REGION is required with DB_IAM_AUTH=true")
	case d.IAMAuth && (d.SSLMode != "require" && d.SSLMode != "verify-ca" && d.SSLMode != "verify-full"):
		return errors.New("DB_SSLMODE must be require, verify-ca or verify-full with DB_IAM_AUTH=true (RDS refuses IAM auth without TLS)")
	case d.Host != "" && !d.IAMAuth && d.PasswordFile == "":
		return errors.New("DB_HOST needs DB_IAM_AUTH=true or DB_PASSWORD_FILE (no static password in the environment)")
	case (d.SSLMode == "verify-ca" || d.SSLMode == "verify-full") && d.SSLRootCert == "" && d.URL == "":
		return fmt.Errorf("DB_SSLROOTCERT is required with DB_SSLMODE=%s", d.SSLMode)
	}
	if c.Env == EnvProduction {
		if d.URL != "" {
			return errors.New("APP_ENV=production: DATABASE_URL is for local work; use DB_HOST with DB_IAM_AUTH or DB_PASSWORD_FILE")
		}
		if d.SSLMode != "verify-full" {
			return errors.New("APP_ENV=production: DB_SSLMODE must be verify-full")
		}
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
		return errors.New("METRICS_ADDR must differ from HTTP_ADDR")
	}
	return nil
}

// PrintUsage writes the table of settings, their defaults and meaning.
func PrintUsage(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, s := range settings() {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.name, def, s.help)
	}
	return tw.Flush()
}

var (
	// hostName is a DNS name: dot-separated labels of letters, digits and hyphens.
	hostName = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)
	// sqlName is the subset of PostgreSQL names this service accepts for its database and user:
	// what RDS and the manifests use, nothing that needs quoting.
	sqlName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$.-]{0,62}$`)
	awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

func identifier(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if !sqlName.MatchString(v) {
			return errors.New("must be 1 to 63 letters, digits or _ $ . - starting with a letter or _")
		}
		*field(c) = v
		return nil
	}
}

// path accepts an absolute file path (or nothing).
func path(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v != "" && (!filepath.IsAbs(v) || strings.ContainsFunc(v, unicode.IsControl)) {
			return errors.New("must be an absolute file path")
		}
		*field(c) = v
		return nil
	}
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func duration(field func(*Config) *time.Duration, lo, hi time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("must be a duration such as 500ms, 5s or 1m")
		}
		if d < lo || d > hi {
			return fmt.Errorf("must be between %s and %s", lo, hi)
		}
		*field(c) = d
		return nil
	}
}

func addr(field func(*Config) *string, optional bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "off" && optional {
			*field(c) = ""
			return nil
		}
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return errors.New("must be host:port, such as :8080 or 127.0.0.1:8080")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return errors.New("port must be a number from 0 to 65535")
		}
		*field(c) = v
		return nil
	}
}
