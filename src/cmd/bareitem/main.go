// Command bareitem is the benchmark's ceiling for GET /v1/items/{id}: the thinnest Go server that
// does the same work as the service for that route (net/http, a pgx pool, the same QueryRow,
// json.Marshal of the same item), with no router, middleware, log, timeout or metrics.
// `make bench` compares the service against it in the same run.
//
//	DATABASE_URL=postgres://... bareitem [addr] [pool size]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/platform-template/template-api/src/internal/items"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bareitem:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	addr, conns := "127.0.0.1:18083", "32"
	if len(args) > 0 {
		addr = args[0]
	}
	if len(args) > 1 {
		conns = args[1]
	}
	n, err := strconv.Atoi(conns)
	if err != nil {
		return fmt.Errorf("pool size: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns = int32(n) //nolint:gosec // a small number from the command line
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(strings.TrimPrefix(r.URL.Path, "/v1/items/"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		it := items.Item{ID: id}
		err = pool.QueryRow(r.Context(), `SELECT name, created_at FROM items WHERE id = $1`, [16]byte(id)).Scan(&it.Name, &it.CreatedAt)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		it.CreatedAt = it.CreatedAt.UTC()
		b, _ := json.Marshal(it)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(b, '\n'))
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}
