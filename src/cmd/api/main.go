// Command api is the template's HTTP service: items stored in PostgreSQL, served with trace
// logging, metrics, health endpoints and a graceful shutdown.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/config"
	"github.com/platform-template/template-api/src/internal/database"
	"github.com/platform-template/template-api/src/internal/httpapi"
	"github.com/platform-template/template-api/src/internal/items"
	"github.com/platform-template/template-api/src/internal/metrics"
	"github.com/platform-template/template-api/src/internal/redact"
	"github.com/platform-template/template-api/src/internal/reqlog"
)

// version is stamped at build time: -ldflags "-X main.version=...".
var version = "dev"

const serviceName = "template-api"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "api: %s\n", printable(err))
		os.Exit(1)
	}
}

// printable is the text of the error main prints, with any secret a library put in it masked.
func printable(err error) string { return redact.Error(err) }

const usage = `Usage: api [serve|migrate|version] [--help]

  serve     run the HTTP API (the default)
  migrate   apply the embedded schema migrations and exit
  version   print the version and exit

Configuration comes from environment variables:

`

// run is the whole program. Everything it needs comes in as arguments, so tests drive it: it
// returns when ctx is cancelled (SIGINT, SIGTERM) after a graceful shutdown, or on an error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	for i, a := range args {
		switch a {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return config.PrintUsage(stdout)
		case "serve", "migrate", "version":
			cmd = a
		default:
			fmt.Fprint(stderr, usage)
			// Not quoted: a misplaced argument may be a connection string or a token.
			return fmt.Errorf("unknown argument #%d (want serve, migrate, version or --help)", i+1)
		}
	}
	if cmd == "version" {
		_, err := fmt.Fprintln(stdout, version)
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := reqlog.New(stdout, cfg.LogLevel, serviceName)
	logger.Info().Str("version", version).Str("env", cfg.Env).Str("db_credentials", cfg.DB.CredentialSource()).Msg("starting")

	pool, err := database.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer func() {
		pool.Close()
		logger.Info().Msg("database pool closed")
	}()

	if cmd == "migrate" {
		v, err := database.Migrate(ctx, pool, &logger)
		if err != nil {
			return err
		}
		logger.Info().Int64("schema_version", v).Msg("migrations done")
		return nil
	}
	if cfg.DB.MigrateOnStart {
		v, err := database.MigrateWithRetry(ctx, pool, &logger, time.Minute)
		if err != nil {
			return err
		}
		logger.Info().Int64("schema_version", v).Msg("schema up to date")
	}
	return serve(ctx, cfg, &logger, pool)
}

type server struct {
	name, addr string
	srv        *http.Server
	ln         net.Listener
}

func serve(ctx context.Context, cfg config.Config, logger *zerolog.Logger, pool *pgxpool.Pool) error {
	reg := metrics.NewRegistry()
	metrics.RegisterPool(reg, pool)
	var draining atomic.Bool
	api := httpapi.Routes(httpapi.Deps{
		Logger:       logger,
		Metrics:      metrics.NewHTTP(reg),
		Items:        items.NewStore(pool, cfg.DB.QueryTimeout),
		DB:           pool,
		Draining:     &draining,
		MaxBodyBytes: cfg.MaxBodyBytes,
		ReadyTimeout: cfg.DB.QueryTimeout,
	})
	servers := []server{{name: "api", addr: cfg.HTTPAddr, srv: newHTTPServer(cfg, api, logger)}}
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		servers = append(servers, server{name: "metrics", addr: cfg.MetricsAddr, srv: newHTTPServer(cfg, mux, logger)})
	}
	for i := range servers {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", servers[i].addr)
		if err != nil {
			closeAll(servers[:i])
			return fmt.Errorf("listen %s: %w", servers[i].name, err)
		}
		servers[i].ln = ln
	}

	errc := make(chan error, len(servers))
	for _, s := range servers {
		logger.Info().Str("server", s.name).Str("addr", s.ln.Addr().String()).Msg("listening")
		go func() {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s server: %w", s.name, err)
			}
		}()
	}

	select {
	case err := <-errc:
		closeAll(servers)
		return err
	case <-ctx.Done():
	}

	// Graceful shutdown: readiness fails first so the load balancer stops sending, serving goes
	// on for the drain delay, then in-flight requests get the shutdown timeout to finish.
	draining.Store(true)
	logger.Info().Dur("drain_delay_ms", cfg.ShutdownDrainDelay).Msg("shutdown: draining, /readyz now answers 503")
	time.Sleep(cfg.ShutdownDrainDelay)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown %s server: %w", s.name, err))
		}
	}
	logger.Info().Msg("shutdown: servers stopped")
	return errors.Join(errs...)
}

func newHTTPServer(cfg config.Config, h http.Handler, logger *zerolog.Logger) *http.Server {
	return &http.Server{
		Handler: h,
		// `OPTIONS *` reaches the handler too: by default net/http answers it alone, without
		// the trace headers, the JSON body and the access line every other answer has.
		DisableGeneralOptionsHandler: true,
		ReadHeaderTimeout:            cfg.ReadHeaderTimeout,
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		MaxHeaderBytes:               cfg.MaxHeaderBytes,
		ErrorLog:                     newStdLogger(logger),
	}
}

func closeAll(servers []server) {
	for _, s := range servers {
		if s.ln != nil {
			_ = s.ln.Close()
		}
	}
}
