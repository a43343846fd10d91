// Command barehealthz is the benchmark's baseline: a bare net/http server answering GET /healthz
// with exactly the bytes the service answers, with no middleware, logging or routing library.
// `make bench` compares the service's full stack against it.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := "127.0.0.1:18081"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	body := []byte(`{"status":"ok"}` + "\n")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "barehealthz:", err)
		os.Exit(1)
	}
}
