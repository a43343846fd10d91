#!/usr/bin/env bash
# make bench: the service against its baselines, side by side in one run, on loopback, with the
# same load generator and settings for each (results: docs/performance.md).
#   1. Start-up: exec to /readyz 200 with the database present (bin/api), exec to /healthz 200
#      (bin/barehealthz), and the resident memory (RSS) of each when ready.
#   2. GET /healthz through the full stack vs a bare net/http server answering the same bytes
#      (src/cmd/barehealthz). Goal: >= 0.80x. Also RSS idle and under this load.
#   3. GET /v1/items/{id} vs the thinnest Go server doing the same query (src/cmd/bareitem:
#      net/http, a pgx pool, QueryRow, json.Marshal). Goal: >= 0.92x. pgbench -S on the same
#      database, for context.
#   4. Allocations per request of the middleware chain (go test -bench -benchmem).
#   5. With BENCH_CALLGRIND=1 (valgrind installed): instructions per request of each server under
#      callgrind, which the machine's load does not change.
# Each pair is measured in alternating rounds (baseline, service, baseline, service, ...) and the
# median of each side is reported, so that a change of load on the machine during the run touches
# both sides alike; the server's own CPU time per request is reported beside its throughput.
# Settings: BENCH_SECONDS per round (5), BENCH_ROUNDS (5), BENCH_CONNS (32), BENCH_STARTS (5),
# BENCH_CG_SECONDS per callgrind run (10).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-5}
conns=${BENCH_CONNS:-32}
starts=${BENCH_STARTS:-5}
cg_secs=${BENCH_CG_SECONDS:-10}

if [ "${1:-}" != "--inner" ]; then
  if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk (Debian package)"; apt-get install -y -qq wrk >/dev/null 2>&1 || {
      echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }
  fi
  echo "bench: building bin/api, bin/barehealthz, bin/bareitem, bin/benchstart, bin/devdb (warm: seconds; cold: about a minute)"
  mkdir -p bin .run
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/api ./src/cmd/api
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/barehealthz ./src/cmd/barehealthz
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/bareitem ./src/cmd/bareitem
  go build -o bin/benchstart ./src/cmd/benchstart
  go build -o bin/devdb ./src/cmd/devdb
  echo "bench: allocations per request (go test -bench -benchmem; starts its own PostgreSQL)"
  go test -run='^$' -bench='BenchmarkMiddlewareHealthz|BenchmarkFromHeader' -benchmem -count=1 \
    ./src/internal/httpapi ./src/internal/trace | tee .run/bench-go.txt
  echo "bench: starting a throwaway PostgreSQL (max_connections=300)"
  exec ./bin/devdb -set max_connections=300 -- "$0" --inner
fi

# --- inner: DATABASE_URL points at the throwaway cluster --------------------------------------
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
export METRICS_ADDR=off LOG_LEVEL=info SHUTDOWN_DRAIN_DELAY=0s DB_MAX_CONNS="$conns"

echo "bench: start-up, $starts times each: exec to /readyz 200 (service, database present) and to /healthz 200 (bare)"
first=$(HTTP_ADDR=127.0.0.1:18090 ./bin/benchstart http://127.0.0.1:18090/readyz -- ./bin/api 2>/dev/null)
api_ready=(); api_rss_ready=(); bare_ready=(); bare_rss_ready=()
for _ in $(seq 1 "$starts"); do
  out=$(HTTP_ADDR=127.0.0.1:18090 ./bin/benchstart http://127.0.0.1:18090/readyz -- ./bin/api 2>/dev/null)
  api_ready+=("$(field ready_ms <<<"$out")"); api_rss_ready+=("$(field rss_kib <<<"$out")")
  out=$(./bin/benchstart http://127.0.0.1:18091/healthz -- ./bin/barehealthz 127.0.0.1:18091)
  bare_ready+=("$(field ready_ms <<<"$out")"); bare_rss_ready+=("$(field rss_kib <<<"$out")")
done
echo "bench:   service ${api_ready[*]} ms | bare ${bare_ready[*]} ms (first start, applying migrations: $(field ready_ms <<<"$first") ms)"

HTTP_ADDR=127.0.0.1:18080 ./bin/api >/dev/null 2>&1 &
api_pid=$!; pids+=("$api_pid")
./bin/barehealthz 127.0.0.1:18081 >/dev/null 2>&1 &
bare_pid=$!; pids+=("$bare_pid")
./bin/bareitem 127.0.0.1:18083 "$conns" >/dev/null 2>&1 &
item_pid=$!; pids+=("$item_pid")
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && curl -fsS http://127.0.0.1:18081/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
sleep 1
api_rss_idle=$(rss "$api_pid"); bare_rss_idle=$(rss "$bare_pid")

rps() { awk '/^Requests\/sec:/ {print $2}'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
pg_ticks() { local t=0 p; for p in $(pgrep -u postgres 2>/dev/null || true); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
hz=$(getconf CLK_TCK)
# run_side pid url [wrk args...] -> "rps us_cpu_per_request max_rss_kib us_pg_cpu_per_request"
run_side() {
  local pid=$1 url=$2; shift 2
  local before after pg_before pg_after out maxrss_file
  maxrss_file=$(mktemp)
  ( m=0; while kill -0 "$pid" 2>/dev/null; do r=$(rss "$pid" 2>/dev/null || echo 0); [ "$r" -gt "$m" ] && m=$r && echo "$m" >"$maxrss_file"; sleep 0.2; done ) &
  local sampler=$!
  before=$(cpu_ticks "$pid"); pg_before=$(pg_ticks)
  out=$(wrk -t1 -c"$conns" -d"${secs}s" "$@" "$url")
  after=$(cpu_ticks "$pid"); pg_after=$(pg_ticks)
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  awk -v r="$(rps <<<"$out")" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" -v t=$((after - before)) -v pt=$((pg_after - pg_before)) \
    -v hz="$hz" -v m="$(cat "$maxrss_file" 2>/dev/null || echo 0)" \
    'BEGIN { printf "%s %.1f %d %.1f", r, t * 1e6 / hz / n, m, pt * 1e6 / hz / n }'
  rm -f "$maxrss_file"
}

echo "bench: /healthz, $rounds alternating rounds of wrk -t1 -c$conns -d${secs}s per side (warm-up 2 s each)"
wrk -t1 -c"$conns" -d2s http://127.0.0.1:18081/healthz >/dev/null
wrk -t1 -c"$conns" -d2s http://127.0.0.1:18080/healthz >/dev/null
bares=(); fulls=(); barecpu=(); fullcpu=(); barerss=(); fullrss=()
for _ in $(seq 1 "$rounds"); do
  read -r r c m _ <<<"$(run_side "$bare_pid" http://127.0.0.1:18081/healthz)"; bares+=("$r"); barecpu+=("$c"); barerss+=("$m")
  read -r r c m _ <<<"$(run_side "$api_pid" http://127.0.0.1:18080/healthz)"; fulls+=("$r"); fullcpu+=("$c"); fullrss+=("$m")
done
echo "bench:   bare ${bares[*]} req/s (${barecpu[*]} us CPU/req) | full ${fulls[*]} req/s (${fullcpu[*]} us CPU/req)"

echo "bench: seeding 1000 items through the API"
seq 1 1000 | xargs -P4 -I{} curl -fsS -H 'Content-Type: application/json' -d '{"name":"bench item {}"}' http://127.0.0.1:18080/v1/items \
  | sed -E 's/.*"id":"([^"]+)".*/\1/' > .run/bench-ids.txt
lua=.run/bench-items.lua
{
  printf 'local ids = {'
  sed 's/.*/"&",/' .run/bench-ids.txt | tr -d '\n'
  printf '}\n'
  printf 'request = function() return wrk.format("GET", "/v1/items/" .. ids[math.random(#ids)]) end\n'
} > "$lua"

echo "bench: GET /v1/items/{id} over 1000 random ids, $rounds alternating rounds: bareitem, service, pgbench -S -M prepared -c $conns -j 1"
pgb="${PGCLUSTER_BINDIR:+$PGCLUSTER_BINDIR/}pgbench"
command -v "$pgb" >/dev/null || pgb=pgbench
"$pgb" -q -i -s 1 "$DATABASE_URL" >/dev/null 2>&1
"$pgb" -n -S -M prepared -c "$conns" -j 1 -T 2 "$DATABASE_URL" >/dev/null 2>&1
wrk -t1 -c"$conns" -d2s -s "$lua" http://127.0.0.1:18083/ >/dev/null
wrk -t1 -c"$conns" -d2s -s "$lua" http://127.0.0.1:18080/ >/dev/null
thins=(); items=(); tpss=(); thincpu=(); itemcpu=(); thinpg=(); itempg=()
for _ in $(seq 1 "$rounds"); do
  read -r r c _ p <<<"$(run_side "$item_pid" http://127.0.0.1:18083/ -s "$lua")"; thins+=("$r"); thincpu+=("$c"); thinpg+=("$p")
  read -r r c _ p <<<"$(run_side "$api_pid" http://127.0.0.1:18080/ -s "$lua")"; items+=("$r"); itemcpu+=("$c"); itempg+=("$p")
  tpss+=("$("$pgb" -n -S -M prepared -c "$conns" -j 1 -T "$secs" "$DATABASE_URL" 2>/dev/null | awk '/^tps = / {print $3}')")
done
echo "bench:   bareitem ${thins[*]} | service ${items[*]} | pgbench ${tpss[*]}"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cg_lines=()
if [ "${BENCH_CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
  echo "bench: callgrind, instructions per request (each server under valgrind, wrk -t1 -c4 -d${cg_secs}s; 8 runs, about 30 s each)"
  # cg name url gogc command...: runs the command under callgrind with GOGC=gogc, counts only
  # while wrk runs, prints instructions per request.
  cg() {
    local name=$1 url=$2 gogc=$3; shift 3
    local out=.run/callgrind-$name-$gogc.out
    rm -f "$out"*
    GOGC=$gogc GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$@" >/dev/null 2>&1 &
    local vpid=$!
    for _ in $(seq 1 150); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" != 000 ] && break; sleep 0.2; done
    # shellcheck disable=SC2086 # CG_WRK_ARGS holds several words on purpose
    wrk -t1 -c4 -d2s ${CG_WRK_ARGS:-} "$url" >/dev/null
    callgrind_control -i on "$vpid" >/dev/null 2>&1
    local n
    # shellcheck disable=SC2086
    n=$(wrk -t1 -c4 -d"${cg_secs}s" ${CG_WRK_ARGS:-} "$url" | awk '/requests in/ {print $1}')
    callgrind_control -i off "$vpid" >/dev/null 2>&1; callgrind_control -d "$vpid" >/dev/null 2>&1; sleep 1
    local ir
    ir=$(awk '/^totals:/ {print $2}' "$out".1)
    callgrind_control -k "$vpid" >/dev/null 2>&1 || true; wait "$vpid" 2>/dev/null || true
    if [ -z "$n" ] || [ "$n" = 0 ] || [ -z "$ir" ]; then echo "bench: callgrind run of $name failed (see $out*)" >&2; echo 0; return; fi
    echo $((ir / n))
  }
  port=18060
  for gogc in 100 off; do
    port=$((port + 5))
    b=$(cg barehealthz "http://127.0.0.1:$port/healthz" "$gogc" ./bin/barehealthz "127.0.0.1:$port")
    f=$(HTTP_ADDR="127.0.0.1:$((port + 1))" cg api-healthz "http://127.0.0.1:$((port + 1))/healthz" "$gogc" ./bin/api)
    cg_lines+=("$(printf 'callgrind: /healthz GOGC=%-3s full stack %6d Ir/req | bare %6d Ir/req | ratio %sx' "$gogc" "$f" "$b" "$(ratio "$b" "$f")")")
    b=$(CG_WRK_ARGS="-s $lua" cg bareitem "http://127.0.0.1:$((port + 2))/" "$gogc" ./bin/bareitem "127.0.0.1:$((port + 2))" 4)
    f=$(CG_WRK_ARGS="-s $lua" HTTP_ADDR="127.0.0.1:$((port + 3))" DB_MAX_CONNS=4 cg api-items "http://127.0.0.1:$((port + 3))/" "$gogc" ./bin/api)
    cg_lines+=("$(printf 'callgrind: items   GOGC=%-3s full stack %6d Ir/req | bare %6d Ir/req | ratio %sx' "$gogc" "$f" "$b" "$(ratio "$b" "$f")")")
  done
fi

bare=$(median "${bares[@]}"); full=$(median "${fulls[@]}")
bare_cpu=$(median "${barecpu[@]}"); full_cpu=$(median "${fullcpu[@]}")
thin=$(median "${thins[@]}"); item=$(median "${items[@]}"); tps=$(median "${tpss[@]}")
thin_cpu=$(median "${thincpu[@]}"); item_cpu=$(median "${itemcpu[@]}"); thin_pg=$(median "${thinpg[@]}"); item_pg=$(median "${itempg[@]}")
allocs=$(awk '/^BenchmarkMiddlewareHealthz/ {for (i=1;i<=NF;i++) if ($(i+1)=="allocs/op") a=$i; else if ($(i+1)=="B/op") b=$i; else if ($(i+1)=="ns/op") n=$i; print a" allocs/op, "b" B/op, "n" ns/op"}' .run/bench-go.txt)

{
  echo
  echo "== bench summary ($(nproc) cores, $(uname -m), loopback; medians of $rounds alternating rounds of ${secs}s; wrk -t1 -c$conns; load average $load_before before, $load_after after) =="
  printf 'healthz:  full stack %8.0f req/s | bare net/http %8.0f req/s | ratio %sx (goal >= 0.80)\n' "$full" "$bare" "$(ratio "$full" "$bare")"
  printf 'healthz:  server CPU per request: full stack %s us | bare %s us\n' "$full_cpu" "$bare_cpu"
  printf 'items:    GET /v1/items/{id} %8.0f req/s | bareitem %8.0f req/s | ratio %sx (goal >= 0.92)\n' "$item" "$thin" "$(ratio "$item" "$thin")"
  printf 'items:    server CPU per request: service %s us | bareitem %s us; PostgreSQL CPU per request: %s us | %s us\n' "$item_cpu" "$thin_cpu" "$item_pg" "$thin_pg"
  printf 'items:    pgbench -S -M prepared -c%s -j1 %8.0f tps | service/pgbench %sx | bareitem/pgbench %sx (context)\n' "$conns" "$tps" "$(ratio "$item" "$tps")" "$(ratio "$thin" "$tps")"
  printf 'start:    exec to /readyz 200: service %s ms (median of %s; first start with migrations %s ms) | exec to /healthz 200: bare %s ms\n' \
    "$(median "${api_ready[@]}")" "$starts" "$(field ready_ms <<<"$first")" "$(median "${bare_ready[@]}")"
  printf 'memory:   RSS when ready: service %s KiB | bare %s KiB; idle: service %s KiB | bare %s KiB; max under /healthz load: service %s KiB | bare %s KiB\n' \
    "$(median "${api_rss_ready[@]}")" "$(median "${bare_rss_ready[@]}")" "$api_rss_idle" "$bare_rss_idle" \
    "$(printf '%s\n' "${fullrss[@]}" | sort -n | tail -1)" "$(printf '%s\n' "${barerss[@]}" | sort -n | tail -1)"
  printf 'allocs:   middleware chain on /healthz: %s\n' "$allocs"
  for l in "${cg_lines[@]}"; do echo "$l"; done
} | tee .run/bench-summary.txt
