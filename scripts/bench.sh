#!/usr/bin/env bash
# make bench: throughput of the service against baselines, side by side in one run, on loopback,
# with the same load generator and settings for each, plus allocations per request.
#   1. GET /healthz through the full middleware stack (access log at info to /dev/null) vs a bare
#      net/http server answering the same bytes (src/cmd/barehealthz). Goal: >= 0.8x.
#   2. GET /v1/items/{id} vs `pgbench -S -M prepared` (select-only) on the same PostgreSQL with the
#      same number of connections. Goal: >= 0.7x.
#   3. Allocations per request of the middleware chain (go test -bench -benchmem).
# Each pair is measured in alternating rounds (baseline, service, baseline, service, ...) and the
# median of each side is reported, so that a change of load on the machine during the run touches
# both sides alike. Settings: BENCH_SECONDS per round (5), BENCH_ROUNDS (3), BENCH_CONNS (32).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-32}

if [ "${1:-}" != "--inner" ]; then
  if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk (Debian package)"; apt-get install -y -qq wrk >/dev/null 2>&1 || {
      echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }
  fi
  echo "bench: building bin/api, bin/barehealthz, bin/devdb"
  mkdir -p bin
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/api ./src/cmd/api
  go build -trimpath -o bin/barehealthz ./src/cmd/barehealthz
  go build -o bin/devdb ./src/cmd/devdb
  echo "bench: allocations per request (go test -bench -benchmem)"
  mkdir -p .run
  go test -run='^$' -bench='BenchmarkMiddlewareHealthz|BenchmarkFromHeader' -benchmem -count=1 \
    ./src/internal/httpapi ./src/internal/trace | tee .run/bench-go.txt
  echo "bench: starting a throwaway PostgreSQL (max_connections=300)"
  exec ./bin/devdb -set max_connections=300 -- "$0" --inner
fi

# --- inner: DATABASE_URL points at the throwaway cluster --------------------------------------
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

HTTP_ADDR=127.0.0.1:18080 METRICS_ADDR=off LOG_LEVEL=info DB_MAX_CONNS="$conns" SHUTDOWN_DRAIN_DELAY=0s \
  ./bin/api >/dev/null 2>&1 &
api_pid=$!; pids+=("$api_pid")
./bin/barehealthz 127.0.0.1:18081 >/dev/null 2>&1 &
bare_pid=$!; pids+=("$bare_pid")
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && curl -fsS http://127.0.0.1:18081/healthz >/dev/null 2>&1 && break
  sleep 0.1
done

rps() { awk '/^Requests\/sec:/ {print $2}'; }
load() { wrk -t1 -c"$conns" -d"${secs}s" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "bench: /healthz, $rounds rounds of wrk -t1 -c$conns -d${secs}s per side (warm-up 2 s each)"
wrk -t1 -c"$conns" -d2s http://127.0.0.1:18081/healthz >/dev/null
wrk -t1 -c"$conns" -d2s http://127.0.0.1:18080/healthz >/dev/null
# Besides requests/s, the server's own CPU time per request (utime+stime from /proc), which a
# change of load on the machine disturbs much less than throughput.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run_side() { # pid url -> "rps us_cpu_per_request"
  local before after out
  before=$(cpu_ticks "$1"); out=$(load "$2"); after=$(cpu_ticks "$1")
  awk -v r="$(rps <<<"$out")" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" -v t=$((after - before)) -v hz="$hz" \
    'BEGIN { printf "%s %.1f", r, t * 1e6 / hz / n }'
}
bares=(); fulls=(); barecpu=(); fullcpu=()
for _ in $(seq 1 "$rounds"); do
  read -r r c <<<"$(run_side "$bare_pid" http://127.0.0.1:18081/healthz)"; bares+=("$r"); barecpu+=("$c")
  read -r r c <<<"$(run_side "$api_pid" http://127.0.0.1:18080/healthz)"; fulls+=("$r"); fullcpu+=("$c")
done
echo "bench:   bare ${bares[*]} req/s (${barecpu[*]} us CPU/req) | full ${fulls[*]} req/s (${fullcpu[*]} us CPU/req)"
bare=$(median "${bares[@]}"); full=$(median "${fulls[@]}")
bare_cpu=$(median "${barecpu[@]}"); full_cpu=$(median "${fullcpu[@]}")

echo "bench: seeding 1000 items"
ids=()
for i in $(seq 1 1000); do
  ids+=("$(curl -fsS -H 'Content-Type: application/json' -d "{\"name\":\"bench item $i\"}" http://127.0.0.1:18080/v1/items | sed -E 's/.*"id":"([^"]+)".*/\1/')")
done
lua=.run/bench-items.lua
{
  printf 'local ids = {'
  printf '"%s",' "${ids[@]}"
  printf '}\n'
  printf 'request = function() return wrk.format("GET", "/v1/items/" .. ids[math.random(#ids)]) end\n'
} > "$lua"

echo "bench: pgbench -i -s 1; then $rounds rounds of pgbench -S -M prepared -c $conns -j 1 -T $secs and"
echo "bench:   wrk -t1 -c$conns -d${secs}s on GET /v1/items/{id} over 1000 random ids"
pgb="${PGCLUSTER_BINDIR:+$PGCLUSTER_BINDIR/}pgbench"
command -v "$pgb" >/dev/null || pgb=pgbench
"$pgb" -q -i -s 1 "$DATABASE_URL" >/dev/null 2>&1
"$pgb" -n -S -M prepared -c "$conns" -j 1 -T 2 "$DATABASE_URL" >/dev/null 2>&1
wrk -t1 -c"$conns" -d2s -s "$lua" http://127.0.0.1:18080/ >/dev/null
tpss=(); itemss=()
for _ in $(seq 1 "$rounds"); do
  tpss+=("$("$pgb" -n -S -M prepared -c "$conns" -j 1 -T "$secs" "$DATABASE_URL" 2>/dev/null | awk '/^tps = / {print $3}')")
  itemss+=("$(load -s "$lua" http://127.0.0.1:18080/ | rps)")
done
echo "bench:   pgbench ${tpss[*]} | items ${itemss[*]}"
tps=$(median "${tpss[@]}"); items=$(median "${itemss[@]}")

allocs=$(awk '/^BenchmarkMiddlewareHealthz/ {for (i=1;i<=NF;i++) if ($(i+1)=="allocs/op") a=$i; else if ($(i+1)=="B/op") b=$i; else if ($(i+1)=="ns/op") n=$i; print a" allocs/op, "b" B/op, "n" ns/op"}' .run/bench-go.txt)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "== bench summary ($(nproc) cores, loopback, medians of $rounds alternating rounds of ${secs}s; wrk -t1 -c$conns; pgbench -c$conns -j1) =="
printf 'healthz:  full stack %8.0f req/s | bare net/http %8.0f req/s | ratio %sx (goal >= 0.80)\n' "$full" "$bare" "$(ratio "$full" "$bare")"
printf 'healthz:  server CPU per request: full stack %s us | bare %s us | ratio %sx\n' "$full_cpu" "$bare_cpu" "$(ratio "$bare_cpu" "$full_cpu")"
printf 'items:    GET /v1/items/{id} %8.0f req/s | pgbench -S %8.0f tps | ratio %sx (goal >= 0.70)\n' "$items" "$tps" "$(ratio "$items" "$tps")"
printf 'allocs:   middleware chain on /healthz: %s\n' "$allocs"
