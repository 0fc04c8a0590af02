# shellcheck shell=bash disable=SC2034  # globals shared between bench/lib.sh and bench/streams.sh
# Helpers for bench/run: a private PostgreSQL, streamq and nginx started in a
# temporary directory and stopped by PID on exit, wrk/pgbench wrappers, RSS
# sampling and the result table. Source it from bench/run; do not run it.
# Everything listens on 127.0.0.1 or a unix socket under $BENCH_TMP.

. scripts/lib/common.sh

BENCH_DIR="$PWD/bench"
export BENCH_DIR
BENCH_TMP=""
# The cluster listens only on a unix socket in the run's own directory: the port
# merely names the socket, so runs in other worktrees cannot collide on it.
PG_PORT="${BENCH_PG_PORT:-55432}"
# Result files: directory and date (bench/run sets the date once for all suites).
BENCH_RESULTS="${BENCH_RESULTS:-bench/results}"
BENCH_DATE="${BENCH_DATE:-$(date +%F)}"
SQ_PID=""
SQ_PORT=""
SQ_ARGS=""
NGINX_PID=""
SAMPLER_PID=""
SQ_HWM_MAX=0 # the largest VmHWM of every streamq this run has stopped, in kB

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

bench_cleanup() {
  local rc=$?
  set +e
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  streamq_stop
  nginx_stop
  [ -n "$BENCH_TMP" ] && pg_cluster_stop "$BENCH_TMP/pg"
  if [ -n "$BENCH_TMP" ]; then
    if [ "$rc" != 0 ] || [ -n "${BENCH_KEEP:-}" ]; then
      say "logs kept in $BENCH_TMP"
    else
      rm -rf "$BENCH_TMP"
    fi
  fi
  exit "$rc"
}

# Packages, release build, temp dir, PostgreSQL with durable defaults, database.
bench_setup() {
  ensure_packages
  ensure_packages wrk postgresql-contrib nginx curl
  BENCH_TMP="$(mktemp -d /tmp/streamq-bench.XXXXXX)"
  chmod 755 "$BENCH_TMP"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  if [ -n "${BENCH_REF:-}" ]; then
    # A committed tree, unaffected by edits in progress in the working tree.
    BENCH_COMMIT="$(git rev-parse --short "$BENCH_REF^{commit}")" || die "no commit $BENCH_REF"
    say "building release binary of $BENCH_REF ($BENCH_COMMIT) in $BENCH_TMP/build"
    mkdir -p "$BENCH_TMP/src"
    git archive --format=tar "$BENCH_COMMIT" | tar -x -C "$BENCH_TMP/src"
    # shellcheck disable=SC2086 # BENCH_BUILD_OPTS is a list of meson options
    (cd "$BENCH_TMP/src" && build "$BENCH_TMP/build" -Dbuildtype=release -Dtests=false ${BENCH_BUILD_OPTS:-})
    SQ_BIN="$BENCH_TMP/build/streamq"
  else
    BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    git diff --quiet HEAD -- src db routes schema meson.build 2>/dev/null ||
      BENCH_COMMIT="$BENCH_COMMIT plus uncommitted changes in the working tree"
    local dir="${BENCH_BUILD_DIR:-build-bench}"
    say "building release binary of the working tree in $dir/"
    # shellcheck disable=SC2086 # BENCH_BUILD_OPTS is a list of meson options
    build "$dir" -Dbuildtype=release -Dtests=false ${BENCH_BUILD_OPTS:-} ||
      die "build failed (the working tree may be mid-edit; BENCH_REF=HEAD benchmarks the last commit)"
    SQ_BIN="$PWD/$dir/streamq"
  fi
  say "starting PostgreSQL in $BENCH_TMP/pg (fsync and synchronous_commit on)"
  pg_cluster_start "$BENCH_TMP/pg" "$PG_PORT"
  pg_create_db "$BENCH_TMP/pg" "$PG_PORT" bench
  DB_URL="host=$BENCH_TMP/pg/socket port=$PG_PORT user=postgres dbname=bench"
  local fsync sc
  fsync="$(psql_bench -tAc 'SHOW fsync')"
  sc="$(psql_bench -tAc 'SHOW synchronous_commit')"
  if [ "$fsync" != on ] || [ "$sc" != on ]; then
    die "fsync=$fsync synchronous_commit=$sc: expected both on"
  fi
}

psql_bench() { PGOPTIONS="-c search_path=event_streaming" psql -X -q -h "$BENCH_TMP/pg/socket" -p "$PG_PORT" -U postgres -d bench "$@"; }

# streamq_start [flags...]: starts the release binary on a free port with request
# logging on (log to $BENCH_TMP/streamq-<n>.log, n counting starts); sets SQ_PID, SQ_PORT, SQ_URL.
streamq_start() {
  SQ_ARGS="$*"
  SQ_STARTS=$((${SQ_STARTS:-0} + 1))
  local log="$BENCH_TMP/streamq-$SQ_STARTS.log"
  : >>"$log" # exists before the first look for the port below
  "$SQ_BIN" --listen 127.0.0.1:0 --database-url "$DB_URL" --log-level info "$@" 2>>"$log" >&2 &
  SQ_PID=$!
  local i
  for i in $(seq 1 100); do
    SQ_PORT="$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -n 1)"
    [ -n "$SQ_PORT" ] && break
    kill -0 "$SQ_PID" 2>/dev/null || { cat "$log" >&2; die "streamq exited at start"; }
    sleep 0.1
  done
  [ -n "$SQ_PORT" ] || { cat "$log" >&2; die "streamq did not report its port"; }
  SQ_URL="http://127.0.0.1:$SQ_PORT"
  curl -sf "$SQ_URL/readyz" >/dev/null || die "streamq is not ready"
  say "streamq pid $SQ_PID on $SQ_URL ${SQ_ARGS:-(default pool and threads)}"
}

streamq_stop() { # also keeps the stopped process's VmHWM in SQ_HWM_MAX
  [ -n "$SQ_PID" ] || return 0
  local hwm
  hwm="$([ -r "/proc/$SQ_PID/status" ] && status_kb "$SQ_PID" VmHWM || echo 0)"
  [ "$hwm" -gt "$SQ_HWM_MAX" ] && SQ_HWM_MAX="$hwm"
  kill -TERM "$SQ_PID" 2>/dev/null
  wait "$SQ_PID" 2>/dev/null
  SQ_PID=""
}

# nginx serving a fixed {"status":"ok"} on a free port, as root, in the foreground
# of a background job (daemon off), access log on (its default) to a file. The
# port is found free and then bound by nginx, so another run (another worktree)
# may take it in between: then nginx exits at once and another port is tried. Each
# response carries this run's directory name, so a server that is not ours is
# never measured.
nginx_start() {
  local d="$BENCH_TMP/nginx" port try i token
  token="$(basename "$BENCH_TMP")"
  mkdir -p "$d"
  for try in 1 2 3 4 5 6 7 8 9 10; do
    port="$(free_port)"
    nginx_conf "$d" "$port" "$token" >"$d/nginx.conf"
    nginx -c "$d/nginx.conf" -p "$d" 2>>"$d/stderr.log" &
    NGINX_PID=$!
    NGINX_URL="http://127.0.0.1:$port"
    for i in $(seq 1 50); do
      curl -sf -D - -o /dev/null "$NGINX_URL/healthz" 2>/dev/null | grep -qi "^x-bench-run: $token" && return 0
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.1
    done
    nginx_stop
    say "nginx could not serve on port $port (taken by another process?); trying another port ($try)"
  done
  cat "$d/stderr.log" "$d/error.log" >&2
  die "nginx did not start"
}

nginx_conf() { # nginx_conf DIR PORT TOKEN
  cat <<EOF
user root;
worker_processes auto;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1024; }
http {
  access_log $1/access.log;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$2;
    location / {
      default_type "application/json; charset=utf-8";
      add_header X-Bench-Run $3;
      return 200 '{"status":"ok"}';
    }
  }
}
EOF
}

nginx_stop() {
  [ -n "$NGINX_PID" ] || return 0
  kill -QUIT "$NGINX_PID" 2>/dev/null
  wait "$NGINX_PID" 2>/dev/null
  NGINX_PID=""
}

# A port on 127.0.0.1 nothing listens on (a connect attempt is refused), drawn
# from BENCH_PORTS ("LOW-HIGH", default 20000-49999). streamq itself binds port 0.
free_port() {
  local p lo hi i
  IFS=- read -r lo hi <<<"${BENCH_PORTS:-20000-49999}"
  for i in $(seq 1 1000); do
    p=$((lo + RANDOM % (hi - lo + 1)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free port in ${BENCH_PORTS:-20000-49999}"
}

# wrk_run NAME CONNS SECONDS SCRIPT URL [-- script args]: runs wrk with 2 threads
# and stores its output in $BENCH_TMP/NAME.wrk; sets W_RPS W_P50 W_P99 (ms)
# W_REQ W_US (duration) W_BAD (non-2xx + socket errors).
wrk_run() {
  local name="$1" conns="$2" secs="$3" script="$4" url="$5"
  shift 5
  local out="$BENCH_TMP/$name.wrk"
  wrk -t 2 -c "$conns" -d "${secs}s" --timeout 10s -s "$BENCH_DIR/wrk/$script" "$url" "$@" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk $name failed"; }
  local line
  line="$(grep '^BENCH ' "$out")" || { cat "$out" >&2; die "wrk $name printed no summary"; }
  local requests duration_us p50_us p99_us non2xx errors
  requests="$(kv "$line" requests)"
  duration_us="$(kv "$line" duration_us)"
  p50_us="$(kv "$line" p50_us)"
  p99_us="$(kv "$line" p99_us)"
  non2xx="$(kv "$line" non2xx)"
  errors="$(kv "$line" errors)"
  W_REQ="$requests" W_US="$duration_us"
  W_BAD=$((non2xx + errors))
  W_RPS="$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  W_P50="$(awk -v v="$p50_us" 'BEGIN { printf "%.2f", v / 1000 }')"
  W_P99="$(awk -v v="$p99_us" 'BEGIN { printf "%.2f", v / 1000 }')"
  say "  $name: $W_RPS req/s, p50 $W_P50 ms, p99 $W_P99 ms, $W_REQ requests, $W_BAD failed"
  [ "$W_BAD" = 0 ] || say "  WARNING: $name had $W_BAD failed requests (see $out and streamq.log)"
}

kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# status_kb PID FIELD: a field of /proc/PID/status in kB (VmRSS, VmHWM).
status_kb() {
  local k v _
  while read -r k v _; do
    [ "$k" = "$2:" ] && { echo "$v"; return 0; }
  done <"/proc/$1/status"
  echo 0
}

# sampler_start PID / sampler_stop: the largest VmRSS seen every 100 ms, in kB, in SAMPLED_RSS.
sampler_start() {
  local pid="$1" out="$BENCH_TMP/rss.max"
  echo 0 >"$out"
  (
    max=0
    while [ -r "/proc/$pid/status" ]; do
      while read -r k v _; do
        if [ "$k" = VmRSS: ]; then
          [ "$v" -gt "$max" ] && { max=$v; echo "$max" >"$out"; }
          break
        fi
      done <"/proc/$pid/status"
      sleep 0.1
    done
  ) &
  SAMPLER_PID=$!
}

sampler_stop() { # sets SAMPLED_RSS
  if [ -n "$SAMPLER_PID" ]; then
    kill "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null || true
  fi
  SAMPLER_PID=""
  SAMPLED_RSS="$(cat "$BENCH_TMP/rss.max")"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
kb_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
num() { awk -v v="$1" 'BEGIN { s = sprintf("%.0f", v); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }

# The result table: row METRIC STREAMQ REFERENCE RATIO TARGET VERDICT
TABLE=()
row() { TABLE+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# Issue 13's targets (DESIGN.md "Figures to reach"), each a row of TABLE whose metric
# starts with its id in brackets and whose last column is computed: "met" or
# "**not met**". bench/run gathers these rows from the suites' result files into
# the Targets table; TARGET_IDS lists them all (a missing one is reported).
TARGET_IDS="T1a T1b T2a T2b T2c T3a T3b T3c T3d T4 T5a T5b T6a T6b T6c"

# meets VALUE OP BOUND [VALUE OP BOUND...]: "met" when every VALUE OP BOUND holds
# (OP: ge, gt, lt, le), "**not met**" otherwise, "not measured" if a VALUE is empty or "-".
meets() {
  while [ $# -ge 3 ]; do
    case "$1" in "" | -) echo "not measured"; return 0 ;; esac
    awk -v v="$1" -v op="$2" -v b="$3" 'BEGIN { exit !((op == "ge" && v >= b) || (op == "gt" && v > b) ||
                                                      (op == "lt" && v < b) || (op == "le" && v <= b)) }' ||
      { echo "**not met**"; return 0; }
    shift 3
  done
  echo met
}

# target ID METRIC FIGURE BASELINE RATIO TARGET VALUE OP BOUND [VALUE OP BOUND...]: a target row.
target() {
  local id="$1" metric="$2" figure="$3" base="$4" r="$5" goal="$6"
  shift 6
  row "[$id] $metric" "$figure" "${base:-—}" "${r:-—}" "$goal" "$(meets "$@")"
}

table_print() {
  printf '| metric | streamq | reference (same run) | ratio | target | met |\n'
  printf '|---|---|---|---|---|---|\n'
  printf '%s\n' "${TABLE[@]}"
}

# Where the CPU and the commits go during a phase: diag_begin, run the phase,
# diag_end LABEL adds a row to DIAG. CPU from /proc (streamq's process, the
# PostgreSQL cluster's postmaster and children, the whole machine; "other" is
# the load generator, the kernel and everything else), commits from the xid
# counter, WAL bytes from the WAL position and WAL fsyncs from pg_stat_wal.
DIAG=()
DISTURBED=()
pg_stats() { # next xid (exact count of writing transactions), WAL fsyncs (pg_stat_wal, see README), WAL bytes
  psql_bench -tA -F ' ' -c "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
                                    (SELECT wal_sync FROM pg_stat_wal), pg_current_wal_lsn() - '0/0'::pg_lsn"
}

proc_ticks() { # utime+stime of PIDs (and cutime+cstime with -c for reaped children)
  local with_children=0 t=0 p
  [ "$1" = -c ] && { with_children=1; shift; }
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(awk -v c="$with_children" '{ print $14 + $15 + c * ($16 + $17) }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

pg_ticks() {
  local pm
  pm="$(head -n 1 "$BENCH_TMP/pg/data/postmaster.pid")"
  echo $(($(proc_ticks -c "$pm") + $(proc_ticks $(pgrep -P "$pm"))))
}

machine_ticks() { # busy total
  awk '/^cpu / { total = 0; for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6, total }' /proc/stat
}

# The load generators (wrk, pgbench, curl) are children of this shell that
# have exited by the end of a phase: their CPU is this shell's cutime+cstime.
# A running nginx (master and workers) is counted with them.
client_ticks() {
  local t
  t="$(awk '{ print $16 + $17 }' "/proc/$$/stat")"
  [ -n "$NGINX_PID" ] && t=$((t + $(proc_ticks "$NGINX_PID" $(pgrep -P "$NGINX_PID"))))
  echo "$t"
}

diag_begin() {
  read -r D_XACT0 D_SYNC0 D_WALB0 < <(pg_stats)
  D_T0="$EPOCHREALTIME"
  D_SQ0="$( [ -n "$SQ_PID" ] && proc_ticks "$SQ_PID" || echo 0)"
  D_PG0="$(pg_ticks)"
  D_CL0="$(client_ticks)"
  read -r D_BUSY0 D_TOT0 < <(machine_ticks)
}

diag_end() {
  local label="$1" sq pg cl busy tot xact sync walb secs foreign
  sq="$( [ -n "$SQ_PID" ] && proc_ticks "$SQ_PID" || echo 0)"
  pg="$(pg_ticks)"
  cl="$(client_ticks)"
  read -r busy tot < <(machine_ticks)
  secs="$(awk -v a="$D_T0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')"
  read -r xact sync walb < <(pg_stats)
  local hz
  hz="$(getconf CLK_TCK)"
  foreign="$(awk -v s="$secs" -v hz="$hz" -v f=$((busy - D_BUSY0 - (sq - D_SQ0) - (pg - D_PG0) - (cl - D_CL0))) \
    'BEGIN { v = f / (hz * s); printf "%.2f", v < 0 ? 0 : v }')"
  FOREIGN_MAX="$(awk -v a="${FOREIGN_MAX:-0}" -v b="$foreign" 'BEGIN { print (b > a ? b : a) }')"
  if awk -v f="$foreign" 'BEGIN { exit !(f > 0.15) }'; then
    say "  WARNING: other processes used $foreign cores during \"$label\": figures are disturbed"
    DISTURBED+=("$label ($foreign cores)")
  fi
  DIAG+=("$(awk -v l="$label" -v s="$secs" -v hz="$hz" -v f="$foreign" \
    -v sq=$((sq - D_SQ0)) -v pg=$((pg - D_PG0)) -v cl=$((cl - D_CL0)) -v tot=$((tot - D_TOT0)) -v busy=$((busy - D_BUSY0)) \
    -v x=$((xact - D_XACT0)) -v y=$((sync - D_SYNC0)) -v w="$walb" -v w0="$D_WALB0" 'BEGIN {
      printf "| %s | %.1f | %.2f | %.2f | %.2f | %s | %.2f | %.0f | %.0f | %.1f | %.1f |",
        l, s, sq / (hz * s), pg / (hz * s), cl / (hz * s), f, (tot - busy) / (hz * s),
        x / s, y / s, (y > 0 ? x / y : 0), (w - w0) / s / 1048576 }')")
}

diag_print() {
  printf '| phase | s | streamq cores | postgres cores | load generator (and nginx) cores | other processes cores | idle cores | commits/s | WAL fsyncs/s | commits per fsync | WAL MiB/s |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
  printf '%s\n' "${DIAG[@]}"
}

# wait_quiet: before a phase, waits until the machine is idle (< 0.15 cores busy
# over 1 s; streamq and PostgreSQL are idle between phases) so that other work
# on the machine stays out of the figures. The waits of a run share a budget of
# BENCH_QUIET_WAIT seconds (default 45); past it, phases start anyway.
QUIET_WAITED=0
wait_quiet() {
  local limit="${BENCH_QUIET_WAIT:-45}" b0 t0 b1 t1 busy
  while :; do
    read -r b0 t0 < <(machine_ticks)
    sleep 1
    read -r b1 t1 < <(machine_ticks)
    busy="$(awk -v b=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", b / hz }')"
    awk -v v="$busy" 'BEGIN { exit !(v < 0.15) }' && return 0
    if [ "$QUIET_WAITED" -ge "$limit" ]; then
      say "WARNING: machine busy ($busy cores) and the wait budget (${limit}s) is spent; going on"
      return 0
    fi
    [ "$QUIET_WAITED" = 0 ] || [ $((QUIET_WAITED % 10)) = 0 ] &&
      say "machine busy ($busy cores used by other processes); waiting for it to be idle"
    QUIET_WAITED=$((QUIET_WAITED + 1))
  done
}

# targets_report FILE...: the Targets table gathered from the suites' result files
# (rows whose metric starts with "[T"), in the order of TARGET_IDS, with the suite each
# came from, the ids no file carried, and how many are met; printed and written to
# $BENCH_RESULTS/targets-<date>.md.
targets_report() {
  local out="$BENCH_RESULTS/targets-$BENCH_DATE.md" f id all="" rows="" r met=0 total=0 missing=() short=""
  mkdir -p "$BENCH_RESULTS"
  for f in "$@"; do
    [ -f "$f" ] || continue
    all+="$(grep '^| \[T[0-9]' "$f" | sed "s/^|/| $(basename "$f" | sed 's/-[0-9-]*\.md$//') |/")"$'\n'
    grep -q '^- run settings: BENCH_SCALE 1, BENCH_READ_EVENTS 1000000$' "$f" || short+=" $(basename "$f")"
  done
  for id in $TARGET_IDS; do
    r="$(grep -F "| [$id] " <<<"$all" || true)"
    if [ -z "$r" ]; then missing+=("$id"); continue; fi
    rows+="$r"$'\n'
    total=$((total + 1))
    grep -q '| met |$' <<<"$r" && met=$((met + 1))
  done
  {
    printf '# streamq: issue 13 targets, %s\n\n' "$(date '+%F %H:%M %Z')"
    for f in "$@"; do
      if [ ! -f "$f" ]; then printf -- '- %s: missing\n' "$f"; continue; fi
      printf -- '- %s: commit %s, %s; %s\n' "$f" "$(sed -n 's/^- streamq commit //p' "$f" | head -n 1)" \
        "$(sed -n 's/^# .*, \([0-9-]* [0-9:]* [A-Z]*\)$/\1/p' "$f" | head -n 1)" \
        "$(grep -q '^- \*\*disturbed' "$f" && printf '**disturbed**: %s phases with other work on the machine' \
          "$(grep '^- \*\*disturbed' "$f" | grep -o ' cores)' | wc -l)" || printf 'no phase disturbed')"
    done
    [ -z "$short" ] || printf -- '- **shortened run** (BENCH_SCALE or BENCH_READ_EVENTS not the defaults in%s): not the figures the targets are judged on\n' "$short"
    printf -- '- **%s of %s targets met**%s\n\n' "$met" "$total" \
      "$([ "${#missing[@]}" = 0 ] || printf '; not measured (no file carries them): %s' "${missing[*]}")"
    printf '| suite | target | streamq | reference (same run) | ratio | target | met |\n'
    printf '|---|---|---|---|---|---|---|\n'
    printf '%s' "$rows"
  } >"$out"
  printf '\n'
  cat "$out"
  say "written to $out"
}

# report_header TITLE WHO: the lines every result file opens with (title and date,
# commit, machine, PostgreSQL, the wait for an idle machine and any disturbed
# phases); WHO names what shares the machine.
report_header() {
  printf '# %s, %s\n\n' "$1" "$(date '+%F %H:%M %Z')"
  printf -- '- streamq commit %s\n' "$BENCH_COMMIT"
  printf -- '- machine: %s CPUs (%s), %s MiB RAM; %s share it\n' \
    "$(nproc)" "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
    "$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$2"
  printf -- '- PostgreSQL %s, private cluster on a unix socket, default settings (fsync, synchronous_commit on)\n' \
    "$(psql_bench -tAc 'SHOW server_version' | cut -d' ' -f1)"
  printf -- '- run settings: BENCH_SCALE %s, BENCH_READ_EVENTS %s\n' "${BENCH_SCALE:-1}" "${BENCH_READ_EVENTS:-1000000}"
  printf -- '- waited %s s in all for the machine to be idle before phases; most CPU used by other processes during a phase: %s cores (see the last table)\n' \
    "$QUIET_WAITED" "${FOREIGN_MAX:-0}"
  if [ "${#DISTURBED[@]}" -gt 0 ]; then
    printf -- '- **disturbed by other work on the machine** (> 0.15 cores used by other processes): %s\n' \
      "$(printf '%s; ' "${DISTURBED[@]}" | sed 's/; $//')"
  else
    printf -- '- no phase was disturbed by other work on the machine (≤ 0.15 cores used by other processes)\n'
  fi
}
