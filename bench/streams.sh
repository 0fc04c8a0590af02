# shellcheck shell=bash disable=SC2034,SC2153  # globals shared between bench/lib.sh and bench/streams.sh
# The streams benchmark; sourced by bench/run after bench/lib.sh. See bench/README.md.
# Durations can be shortened for a smoke run: BENCH_SCALE=0.2 bench/run streams.

scale() { awk -v s="$1" -v k="${BENCH_SCALE:-1}" 'BEGIN { v = int(s * k + 0.5); print (v < 2 ? 2 : v) }'; }

STREAMS=1000                               # streams the appends are spread over
T_APPEND="$(scale 20)"                     # a: single-event appends, 64 connections
T_PGBENCH="$(scale 15)"                    # b: pgbench, per client count
T_BATCH="$(scale 15)"                      # c: batch appends, per connection count
T_BATCH_PGBENCH="$(scale 12)"              # c: pgbench reference with 100-event batches
T_HEALTH="$(scale 5)"                      # f: /healthz, per round and side
H_ROUNDS=3                                 # f: alternating rounds
T_VARIANT="$(scale 12)"                    # a': other pool/thread settings
READ_EVENTS="${BENCH_READ_EVENTS:-1000000}" # d: events in the stream read back as NDJSON
PGBENCH_CLIENTS="8 16 32 64"
# a': other settings tried for single appends, ';'-separated flag sets.
VARIANTS="${BENCH_VARIANTS:---pool-max 8 --threads 8;--pool-max 32 --threads 32}"

ONE_EVENT_BODY='{"events": [{"type": "Bench", "data": {"order": 1, "sku": "abc-123", "qty": 1}}]}'

hwm_row() { # hwm_row PHASE: streamq's peak RSS so far
  local kb
  kb="$(status_kb "$SQ_PID" VmHWM)"
  HWM_ROWS+=("| peak RSS (VmHWM) after $1 | $(mib "$kb") | | | | |")
}

# a. single-event appends at 64 connections; sets A_RPS A_P50 A_P99 A_RSS.
phase_single_appends() {
  local label="$1" secs="$2"
  wait_quiet
  wrk_run "warmup-$label" 64 3 append.lua "$SQ_URL" -- 1 "$STREAMS" bench- >/dev/null 2>&1
  sampler_start "$SQ_PID"
  diag_begin
  wrk_run "append1-$label" 64 "$secs" append.lua "$SQ_URL" -- 1 "$STREAMS" bench-
  diag_end "a. single appends, 64 conns ($label)"
  sampler_stop
  A_RSS="$SAMPLED_RSS"
  A_RPS="$W_RPS" A_P50="$W_P50" A_P99="$W_P99" A_BAD="$W_BAD"
}

# b. pgbench with the service's statement at one client count [body [tag]]; sets P_TPS P_P50 P_P99.
pgbench_run() {
  local c="$1" body="${2:-$ONE_EVENT_BODY}" tag="${3:-}"
  local out="$BENCH_TMP/pgbench$tag-$c.out" logs="$BENCH_TMP/pgb$tag$c"
  mkdir -p "$logs"
  # The session settings the service's pool connects with (db/pool.c).
  (cd "$logs" && PGOPTIONS="-c search_path=event_streaming -c statement_timeout=30000" pgbench -n -M prepared -c "$c" -j 2 -T "$T_PGBENCH" -l \
      -h "$BENCH_TMP/pg/socket" -p "$PG_PORT" -U postgres \
      -D "body=$body" -D expected=any -D check=f \
      -f "$BENCH_DIR/pgbench/append1.sql" bench) >"$out" 2>&1 ||
    { cat "$out" >&2; die "pgbench -c $c failed"; }
  P_TPS="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$out")"
  [ -n "$P_TPS" ] || { cat "$out" >&2; die "no tps in pgbench output"; }
  local failed
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")"
  [ "${failed:-0}" = 0 ] || say "  WARNING: pgbench -c $c: $failed failed transactions"
  # Per-transaction log: client, tx, latency (us), script, epoch, us.
  read -r P_P50 P_P99 < <(cat "$logs"/pgbench_log.* | awk '{ print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[int(NR * 0.50) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000 }')
  rm -rf "$logs"
  P_TPS="$(awk -v v="$P_TPS" 'BEGIN { printf "%.0f", v }')"
  say "  pgbench$tag -c $c: $P_TPS tps, p50 $P_P50 ms, p99 $P_P99 ms"
}

run_streams() {
  bench_setup
  streamq_start
  local started="$EPOCHREALTIME"
  HWM_ROWS=()
  hwm_row "start (idle)"

  say "a. single-event appends, 64 connections, ${T_APPEND}s, $STREAMS streams"
  phase_single_appends default "$T_APPEND"
  local a_rps="$A_RPS" a_p50="$A_P50" a_p99="$A_P99" a_rss="$A_RSS"
  hwm_row "a (single appends)"

  say "b. pgbench, same statement, ${T_PGBENCH}s per client count"
  local best_tps=0 best_c=0 pg_rows=() p64_p50="" p64_p99=""
  for c in $PGBENCH_CLIENTS; do
    wait_quiet
    diag_begin
    pgbench_run "$c"
    diag_end "b. pgbench, $c clients"
    pg_rows+=("| pgbench one-event appends/s, $c clients | | $(num "$P_TPS") (p50 $P_P50 ms, p99 $P_P99 ms) | | | |")
    if [ "$P_TPS" -gt "$best_tps" ]; then best_tps="$P_TPS" best_c="$c"; fi
    if [ "$c" = 64 ]; then p64_p50="$P_P50" p64_p99="$P_P99"; fi
  done

  say "c. batch appends of 100 events, ${T_BATCH}s per connection count"
  local c
  local -A b_eps b_p99 pb_eps pb_p99
  for c in 16 64; do
    wait_quiet
    diag_begin
    wrk_run "batch100-c$c" "$c" "$T_BATCH" append.lua "$SQ_URL" -- 100 "$STREAMS" batch-
    diag_end "c. batch appends of 100, $c conns"
    b_eps[$c]=$((W_RPS * 100)) b_p99[$c]="$W_P99"
  done
  # Reference: the same statement with the same 100-event body through pgbench.
  local body100
  body100="$(awk 'BEGIN { printf "{\"events\": ["; for (i = 1; i <= 100; i++)
    printf "%s{\"type\": \"Bench\", \"data\": {\"order\": %d, \"sku\": \"abc-123\", \"qty\": 1}}", (i > 1 ? ", " : ""), i;
    printf "]}" }')"
  local T_SAVE="$T_PGBENCH"
  T_PGBENCH="$T_BATCH_PGBENCH"
  for c in 16 64; do
    wait_quiet
    diag_begin
    pgbench_run "$c" "$body100" -batch100
    diag_end "c. pgbench, 100-event batches, $c clients"
    pb_eps[$c]=$((P_TPS * 100)) pb_p99[$c]="$P_P99"
  done
  T_PGBENCH="$T_SAVE"
  hwm_row "c (batch appends)"

  say "d. NDJSON read of a $READ_EVENTS-event stream"
  wait_quiet
  phase_ndjson
  ndjson_copy_reference
  hwm_row "d (NDJSON load and read)"

  say "f. GET /healthz at 64 connections, streamq vs nginx: $H_ROUNDS alternating rounds of ${T_HEALTH}s each"
  # Alternating short rounds, so that drift in the machine's speed (it is a
  # shared VM) falls on both sides alike; the figure is all requests / all time.
  nginx_start
  wait_quiet
  wrk_run healthz-warmup 64 1 get.lua "$SQ_URL/healthz" >/dev/null 2>&1
  wrk_run healthz-warmup 64 1 get.lua "$NGINX_URL/healthz" >/dev/null 2>&1
  local h_sq_req=0 h_sq_us=0 h_ng_req=0 h_ng_us=0 h_sq_p99=0 h_ng_p99=0 round
  for round in $(seq 1 "$H_ROUNDS"); do
    diag_begin
    wrk_run "healthz-streamq-$round" 64 "$T_HEALTH" get.lua "$SQ_URL/healthz"
    diag_end "f. GET /healthz, 64 conns, round $round"
    h_sq_req=$((h_sq_req + W_REQ)) h_sq_us=$((h_sq_us + W_US))
    h_sq_p99="$(awk -v a="$h_sq_p99" -v b="$W_P99" 'BEGIN { print (b > a ? b : a) }')"
    diag_begin
    wrk_run "healthz-nginx-$round" 64 "$T_HEALTH" get.lua "$NGINX_URL/healthz"
    diag_end "f. nginx fixed body, 64 conns, round $round"
    h_ng_req=$((h_ng_req + W_REQ)) h_ng_us=$((h_ng_us + W_US))
    h_ng_p99="$(awk -v a="$h_ng_p99" -v b="$W_P99" 'BEGIN { print (b > a ? b : a) }')"
  done
  nginx_stop
  local h_sq h_ng
  h_sq="$(awk -v r="$h_sq_req" -v d="$h_sq_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  h_ng="$(awk -v r="$h_ng_req" -v d="$h_ng_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  say "  healthz: streamq $h_sq req/s, nginx $h_ng req/s"
  hwm_row "f (healthz)"

  say "a'. single appends with other pool/thread settings, ${T_VARIANT}s each"
  local var_rows=() best_rps="$a_rps" best_cfg="default (--pool-max 16 --threads 16)" best_p99="$a_p99" best_rss="$a_rss"
  local v variants
  IFS=';' read -r -a variants <<<"$VARIANTS"
  for v in "${variants[@]}"; do
    streamq_stop
    # shellcheck disable=SC2086
    streamq_start $v
    phase_single_appends "$v" "$T_VARIANT"
    var_rows+=("| single appends/s, 64 conns, $v | $(num "$A_RPS") (p50 $A_P50 ms, p99 $A_P99 ms, RSS $(mib "$A_RSS")) | $(num "$best_tps") (pgbench best) | $(ratio "$A_RPS" "$best_tps") | | |")
    if [ "$A_RPS" -gt "$best_rps" ]; then
      best_rps="$A_RPS" best_cfg="$v" best_p99="$A_P99" best_rss="$A_RSS"
    fi
  done
  streamq_stop

  say "g. bearer tokens on vs off: single appends and GET /version, 64 conns, $H_ROUNDS alternating rounds of ${T_HEALTH}s"
  phase_auth_cost

  say "r. single appends with retention trimming concurrently vs without, 64 conns, $H_ROUNDS alternating rounds of ${T_HEALTH}s"
  phase_retention_cost
  say "r'. cold archive: $(num "$AR_EVENTS") events archived by the retention worker, then read back with include_archive"
  phase_archive

  local total
  total="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"

  # The rows of issue 13's targets ([T...], see bench/README.md) and the others.
  local a_ratio
  a_ratio="$(ratio "$a_rps" "$best_tps")"
  target T1a "**single-event appends/s, 64 conns** (default: --pool-max 16 --threads 16)" \
    "$(num "$a_rps") (p50 $a_p50 ms, p99 $a_p99 ms)" "$(num "$best_tps") (pgbench, same one-event transactions, best of $PGBENCH_CLIENTS clients: $best_c)" \
    "$a_ratio" "≥ 2.00 × pgbench best" "$a_ratio" ge 2
  target T1b "**single append p99 latency, 64 conns** (default)" "$a_p99 ms" "$p64_p99 ms (pgbench, 64 clients)" \
    "$(ratio "$a_p99" "$p64_p99")" "< 20 ms" "$a_p99" lt 20
  for r in "${var_rows[@]}"; do TABLE+=("$r"); done
  row "best single-event appends/s ($best_cfg)" "$(num "$best_rps")" "$(num "$best_tps") ($best_c clients)" \
    "$(ratio "$best_rps" "$best_tps")" "" ""
  row "single append p50 latency, 64 conns (default)" "$a_p50 ms" "$p64_p50 ms (pgbench, 64 clients)" \
    "$(ratio "$a_p50" "$p64_p50")" "" ""
  row "RSS during the 64-conn append load (max VmRSS, default)" "$(mib "$a_rss")" "" "" "" ""
  for r in "${pg_rows[@]}"; do TABLE+=("$r"); done
  local id=T2a
  for c in 16 64; do
    target "$id" "**100-event appends, $c conns**: events/s" "$(num "${b_eps[$c]}") (p99 ${b_p99[$c]} ms)" \
      "$(num "${pb_eps[$c]}") (pgbench, same statement and body, $c clients, p99 ${pb_p99[$c]} ms)" \
      "$(ratio "${b_eps[$c]}" "${pb_eps[$c]}")" "≥ 100,000 events/s and ≥ 1.50 × pgbench" \
      "${b_eps[$c]}" ge 100000 "$(ratio "${b_eps[$c]}" "${pb_eps[$c]}")" ge 1.5
    id=T2b
  done
  target T2c "**100-event appends, 64 conns**: p99 latency" "${b_p99[64]} ms" "${pb_p99[64]} ms (pgbench, 64 clients)" \
    "$(ratio "${b_p99[64]}" "${pb_p99[64]}")" "< 100 ms" "${b_p99[64]}" lt 100
  local d_ratio
  d_ratio="$(ratio "$D_EPS" "$D_JSON_EPS")"
  target T5a "**NDJSON read of $(num "$READ_EVENTS") events**: events/s (all lines received)" "$(num "$D_EPS") ($D_SECS s, $(num "$D_LINES") lines)" \
    "$(num "$D_JSON_EPS") (psql COPY of the same $(num "$D_JSON_ROWS") rows as JSON lines, $D_JSON_SECS s)" "$d_ratio" \
    "≥ 1.50 × COPY as JSON lines" "$d_ratio" ge 1.5 "$D_LINES" ge "$READ_EVENTS"
  target T5b "**NDJSON read: constant memory** (VmRSS growth during the read)" \
    "$(mib "$D_RSS") max (idle before: $(mib "$D_RSS0"))" "" "" "growth < 16 MiB" "$(((D_RSS - D_RSS0) / 1024))" lt 16
  row "NDJSON read of $(num "$READ_EVENTS") events: events/s, against raw columns" "$(num "$D_EPS")" \
    "$(num "$D_COPY_EPS") (psql COPY of the same rows, raw columns, first $(num "$D_COPY_ROWS"))" "$(ratio "$D_EPS" "$D_COPY_EPS")" "" ""
  row "one-stream load: 1000-event appends to one stream, 4 in parallel" "$(num "$D_LOAD_EPS") events/s" "" "" "" ""
  local h_ratio
  h_ratio="$(ratio "$h_sq" "$h_ng")"
  target T4 "**GET /healthz req/s, 64 conns**, request logging on" "$(num "$h_sq") (worst round p99 $h_sq_p99 ms)" \
    "$(num "$h_ng") (nginx, fixed body, access log on; worst round p99 $h_ng_p99 ms)" "$h_ratio" "≥ 0.80 × nginx" "$h_ratio" ge 0.8
  target T6a "**RSS under every load of this suite** (largest VmHWM of each streamq: a-f, a')" "$(mib "$SQ_HWM_MAX")" "" "" \
    "< 64 MiB" "$(kb_mib "$SQ_HWM_MAX")" lt 64
  local g_ratio
  for g in append version; do
    g_ratio="$(ratio "${G_ON[$g]}" "${G_OFF[$g]}")"
    row "[A-$g] **bearer token checked on every request**: $([ "$g" = append ] && echo 'single appends/s' || echo 'GET /version req/s'), 64 conns" \
      "$(num "${G_ON[$g]}") (with --tokens-file and a write token)" "$(num "${G_OFF[$g]}") (the same binary without tokens)" \
      "$g_ratio" "≥ 0.95 (the check costs < 5 %)" "$(meets "$g_ratio" ge 0.95)"
  done
  if [ -n "$R_ON" ]; then
    local r_ratio
    r_ratio="$(ratio "$R_ON" "$R_OFF")"
    row "[R] **appends while retention trims**: single appends/s, 64 conns" \
      "$(num "$R_ON") (--retention-max-count $R_KEEP, trimmed every ${R_INTERVAL_MS} ms: $(num "$R_TRIMMED") events; $R_BAD failed)" \
      "$(num "$R_OFF") (the same binary without retention; $R_BAD_OFF failed)" \
      "$r_ratio" "≥ 0.90, no failed append" "$(meets "$r_ratio" ge 0.9 "$R_BAD" le 0)"
  fi
  archive_rows
  for r in "${HWM_ROWS[@]}"; do TABLE+=("$r"); done

  report "$total"
}

# bench/run retention: phase r and r' alone, into retention-<date>.md.
run_retention() {
  bench_setup
  local started="$EPOCHREALTIME" total
  HWM_ROWS=()
  say "r. single appends with retention trimming concurrently vs without, 64 conns, $H_ROUNDS alternating rounds of ${T_HEALTH}s"
  phase_retention_cost
  say "r'. cold archive: $(num "$AR_EVENTS") events archived by the retention worker, then read back with include_archive"
  phase_archive
  total="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
  if [ -n "$R_ON" ]; then
    row "[R] **appends while retention trims**: single appends/s, 64 conns" \
      "$(num "$R_ON") (--retention-max-count $R_KEEP, trimmed every ${R_INTERVAL_MS} ms: $(num "$R_TRIMMED") events; $R_BAD failed)" \
      "$(num "$R_OFF") (the same binary without retention; $R_BAD_OFF failed)" \
      "$(ratio "$R_ON" "$R_OFF")" "≥ 0.90, no failed append" "$(meets "$(ratio "$R_ON" "$R_OFF")" ge 0.9 "$R_BAD" le 0)"
  fi
  archive_rows
  report "$total" retention
}

# The rows of phase r' (none when it was skipped).
archive_rows() {
  [ -n "$AR_WRITE_EPS" ] || return 0
  row "[R-archive] **archive write rate**: events/s archived by the retention worker (gzip segments + manifest fsync'd, then the rows deleted)" \
    "$(num "$AR_WRITE_EPS") ($(num "$AR_ARCHIVED") events in $AR_WRITE_SECS s; $(mib "$AR_KB") on disk)" "" "" "" ""
  row "[R-archive] **archive read-back**: NDJSON export with include_archive=true, events/s, one client" \
    "$(num "$AR_READ_EPS") ($(num "$AR_LINES") lines, $(num "$AR_ARCHIVED") of them archived)" \
    "$(num "$AR_LIVE_EPS") (the same stream's NDJSON export before the trim, all live)" \
    "$(ratio "$AR_READ_EPS" "$AR_LIVE_EPS")" "" ""
}

# 1000 events of the NDJSON load, as one append body, at $BENCH_TMP/body1000.json.
body1000() {
  local body="$BENCH_TMP/body1000.json"
  [ -s "$body" ] && return 0
  {
    printf '{"events": ['
    for i in $(seq 1 1000); do
      [ "$i" -gt 1 ] && printf ', '
      printf '{"type": "Bench", "data": {"order": %d, "sku": "abc-123", "qty": 1, "note": "read back as ndjson"}}' "$i"
    done
    printf ']}'
  } >"$body"
}

# r'. The cold archive (--archive-dir): an instance on a fresh schema loads
# AR_EVENTS events into one stream (1000-event appends, no policy yet) and
# exports it once as NDJSON (the live reference); then the stream's policy is
# set to keep 1,000 and the worker (every 100 ms; up to 100 batches of 1,000
# per stream and run) is timed until first_offset reaches the last 1,000:
# AR_WRITE_EPS events archived (segment written and fsync'd, manifest
# rewritten and fsync'd, rows deleted) per second. Then the whole stream is
# exported with include_archive=true: AR_READ_EPS.
AR_EVENTS="${BENCH_ARCHIVE_EVENTS:-200000}" AR_WRITE_EPS="" AR_WRITE_SECS="" AR_READ_EPS="" AR_LIVE_EPS=""
AR_LINES=0 AR_ARCHIVED=0 AR_KB=0
phase_archive() {
  local help dir="$BENCH_TMP/archive" n=$((AR_EVENTS / 1000)) t0 t1 first=0 lines
  help="$("$SQ_BIN" --help 2>&1 || true)"
  if [[ "$help" != *--archive-dir* ]]; then
    say "  skipped: this binary has no cold archive (BENCH_REF before it)"
    return 0
  fi
  mkdir -p "$dir"
  body1000
  streamq_start --schema bench_archive --archive-dir "$dir" --retention-interval-ms 100
  seq 1 "$n" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$BENCH_TMP/body1000.json" "$SQ_URL/streams/arch-1/events" \
    >"$BENCH_TMP/archive.codes"
  [ "$(grep -c '^201$' "$BENCH_TMP/archive.codes" || true)" = "$n" ] || say "  WARNING: not every load append answered 201"
  wait_quiet
  t0="$EPOCHREALTIME"
  lines="$(curl -sS "$SQ_URL/streams/arch-1/export" | wc -l)"
  t1="$EPOCHREALTIME"
  AR_LIVE_EPS="$(awk -v e="$lines" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", e / (b - a) }')"

  AR_ARCHIVED=$((AR_EVENTS - 1000))
  wait_quiet
  diag_begin
  t0="$EPOCHREALTIME"
  curl -s -o /dev/null -X PUT -H 'Content-Type: application/json' -d '{"max_count": 1000}' \
    "$SQ_URL/streams/arch-1/retention"
  local deadline=$((SECONDS + 600))
  while [ "$first" -lt "$AR_ARCHIVED" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
    first="$(curl -s "$SQ_URL/streams/arch-1" | sed -n 's/.*"first_offset":\([0-9]*\).*/\1/p')"
    first="${first:-0}"
  done
  t1="$EPOCHREALTIME"
  diag_end "r'. archive: the worker archives and deletes $(num "$AR_ARCHIVED") events"
  [ "$first" -ge "$AR_ARCHIVED" ] || say "  WARNING: first_offset only reached $first"
  AR_WRITE_SECS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  AR_WRITE_EPS="$(awk -v e="$AR_ARCHIVED" -v s="$AR_WRITE_SECS" 'BEGIN { printf "%.0f", e / s }')"
  AR_KB="$(du -sk "$dir" | cut -f1)"

  wait_quiet
  diag_begin
  t0="$EPOCHREALTIME"
  AR_LINES="$(curl -sS "$SQ_URL/streams/arch-1/export?include_archive=true" | wc -l)"
  t1="$EPOCHREALTIME"
  diag_end "r'. archive: NDJSON export with include_archive, one client"
  AR_READ_EPS="$(awk -v e="$AR_LINES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", e / (b - a) }')"
  [ "$AR_LINES" = "$AR_EVENTS" ] || say "  WARNING: expected $AR_EVENTS lines, got $AR_LINES"
  streamq_stop
  say "  archived $AR_ARCHIVED events in $AR_WRITE_SECS s ($AR_WRITE_EPS events/s, $(mib "$AR_KB") on disk);" \
    "read back $AR_LINES lines at $AR_READ_EPS events/s (live export before the trim: $AR_LIVE_EPS events/s)"
}

# g. What checking a bearer token costs: two instances of the same binary, one
# with a tokens file, measured in alternating rounds (like f) with the same
# load; the token-checked side sends Authorization on every request. Sets the
# requests/s of each side in G_ON and G_OFF, keyed append and version.
declare -A G_ON G_OFF
phase_auth_cost() {
  local token line tokens="$BENCH_TMP/tokens" on_url off_url on_pid off_pid g round
  if ! line="$("$SQ_BIN" token --scope write --label bench 2>/dev/null)"; then
    say "  skipped: this binary has no token command (BENCH_REF before tokens)"
    return 0
  fi
  token="$(printf '%s\n' "$line" | sed -n 's/^token: //p')"
  printf '%s\n' "$line" | tail -n 1 >"$tokens"
  streamq_start --tokens-file "$tokens"
  on_url="$SQ_URL" on_pid="$SQ_PID"
  SQ_PID="" # kept running beside the next one; stopped below
  streamq_start
  off_url="$SQ_URL" off_pid="$SQ_PID"
  local -A req us
  for g in append version; do req[on-$g]=0 us[on-$g]=0 req[off-$g]=0 us[off-$g]=0; done
  for round in $(seq 1 "$H_ROUNDS"); do
    for g in append version; do
      for side in off on; do
        local url="$off_url" tok=""
        [ "$side" = on ] && url="$on_url" tok="$token"
        wait_quiet
        if [ "$g" = append ]; then
          BENCH_TOKEN="$tok" wrk_run "auth-$g-$side-$round" 64 "$T_HEALTH" append.lua "$url" -- 1 "$STREAMS" auth-
        else
          BENCH_TOKEN="$tok" wrk_run "auth-$g-$side-$round" 64 "$T_HEALTH" get.lua "$url/version"
        fi
        req[$side-$g]=$((req[$side-$g] + W_REQ)) us[$side-$g]=$((us[$side-$g] + W_US))
      done
    done
  done
  streamq_stop # the instance without tokens
  SQ_PID="$on_pid"
  streamq_stop
  for g in append version; do
    G_ON[$g]="$(awk -v r="${req[on-$g]}" -v d="${us[on-$g]}" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
    G_OFF[$g]="$(awk -v r="${req[off-$g]}" -v d="${us[off-$g]}" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
    say "  $g: with tokens ${G_ON[$g]} req/s, without ${G_OFF[$g]} req/s"
  done
}

# r. What retention costs appends: two instances of the same binary on fresh
# schemas of one database, one trimming every stream to its newest R_KEEP events
# every R_INTERVAL_MS (the service-wide default policy), measured in alternating
# rounds (like g) with the same single-event load over $STREAMS streams, so the
# trimmer deletes about as fast as the appenders write. Sets R_ON and R_OFF
# (appends/s), R_BAD and R_BAD_OFF (failed appends: non-2xx, including any
# version_conflict, or transport errors) and R_TRIMMED (events deleted).
R_KEEP=10 R_INTERVAL_MS=200 R_ON="" R_OFF="" R_BAD=0 R_BAD_OFF=0 R_TRIMMED=0
phase_retention_cost() {
  local on_url on_pid off_url round side
  local help
  help="$("$SQ_BIN" --help 2>&1 || true)" # read whole: grep -q would close the pipe early
  if [[ "$help" != *--retention-max-count* ]]; then
    say "  skipped: this binary has no retention worker (BENCH_REF before retention)"
    return 0
  fi
  streamq_start --schema bench_trim --retention-max-count "$R_KEEP" --retention-interval-ms "$R_INTERVAL_MS"
  on_url="$SQ_URL" on_pid="$SQ_PID"
  SQ_PID="" # kept running beside the next one; stopped below
  streamq_start --schema bench_keep
  off_url="$SQ_URL"
  local -A req us
  req[on]=0 us[on]=0 req[off]=0 us[off]=0
  for round in $(seq 1 "$H_ROUNDS"); do
    for side in off on; do
      local url="$off_url"
      [ "$side" = on ] && url="$on_url"
      wait_quiet
      diag_begin
      wrk_run "retention-$side-$round" 64 "$T_HEALTH" append.lua "$url" -- 1 "$STREAMS" ret-
      diag_end "r. single appends, 64 conns, retention $side, round $round"
      req[$side]=$((req[$side] + W_REQ)) us[$side]=$((us[$side] + W_US))
      if [ "$side" = on ]; then R_BAD=$((R_BAD + W_BAD)); else R_BAD_OFF=$((R_BAD_OFF + W_BAD)); fi
    done
  done
  R_TRIMMED="$(psql -X -A -t -d "$DB_URL" -c "SELECT coalesce(sum(trimmed_through + 1), 0) FROM bench_trim.streams")"
  streamq_stop # the instance without retention
  SQ_PID="$on_pid"
  streamq_stop
  R_ON="$(awk -v r="${req[on]}" -v d="${us[on]}" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  R_OFF="$(awk -v r="${req[off]}" -v d="${us[off]}" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  say "  with retention $R_ON appends/s ($R_TRIMMED events trimmed, $R_BAD failed), without $R_OFF appends/s"
}

# d. Loads READ_EVENTS events into one stream (1000-event appends, 4 in parallel;
# they serialise on the stream lock) and reads them back as NDJSON.
phase_ndjson() {
  local body="$BENCH_TMP/body1000.json" n=$((READ_EVENTS / 1000)) t0 t1
  body1000
  diag_begin
  t0="$EPOCHREALTIME"
  seq 1 "$n" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$body" "$SQ_URL/streams/read-1/events" \
    >"$BENCH_TMP/load.codes"
  t1="$EPOCHREALTIME"
  diag_end "d. load: 1000-event appends to one stream, 4 parallel"
  local ok
  ok="$(grep -c '^201$' "$BENCH_TMP/load.codes" || true)"
  [ "$ok" = "$n" ] || say "  WARNING: only $ok of $n load appends answered 201 ($(sort "$BENCH_TMP/load.codes" | uniq -c | tr '\n' ' '))"
  D_LOAD_EPS="$(awk -v e="$READ_EVENTS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", e / (b - a) }')"
  say "  loaded $READ_EVENTS events in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s ($D_LOAD_EPS events/s)"
  curl -s "$SQ_URL/streams/read-1" | grep -q "\"version\":$((READ_EVENTS - 1))," ||
    say "  WARNING: stream read-1 is not at version $((READ_EVENTS - 1)): $(curl -s "$SQ_URL/streams/read-1")"

  wait_quiet # also lets autovacuum finish with the freshly loaded rows
  D_RSS0="$(status_kb "$SQ_PID" VmRSS)"
  sampler_start "$SQ_PID"
  diag_begin
  t0="$EPOCHREALTIME"
  D_LINES="$(curl -sS -H 'Accept: application/x-ndjson' "$SQ_URL/streams/read-1/events" | wc -l)" ||
    say "  WARNING: the NDJSON read failed (curl exit status)"
  t1="$EPOCHREALTIME"
  diag_end "d. NDJSON read, one client"
  sampler_stop
  D_RSS="$SAMPLED_RSS"
  D_SECS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  D_EPS="$(awk -v e="$D_LINES" -v s="$D_SECS" 'BEGIN { printf "%.0f", e / s }')"
  say "  read $D_LINES lines in $D_SECS s ($D_EPS events/s), RSS max $(mib "$D_RSS")"
  [ "$D_LINES" = "$READ_EVENTS" ] || say "  WARNING: expected $READ_EVENTS lines, got $D_LINES"

  # Reference: PostgreSQL handing over the same rows (every column, its text
  # format, no JSON) in one COPY over the unix socket, in stream order; the
  # first 200,000 rows are enough for a rate.
  D_COPY_ROWS=$((READ_EVENTS < 200000 ? READ_EVENTS : 200000))
  t0="$EPOCHREALTIME"
  local copied
  copied="$(psql_bench -c "COPY (SELECT e.* FROM event_streaming.events e
      WHERE e.stream = 'read-1' ORDER BY e.stream_offset LIMIT $D_COPY_ROWS) TO STDOUT" | wc -l)"
  t1="$EPOCHREALTIME"
  D_COPY_EPS="$(awk -v e="$copied" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", e / (b - a) }')"
  say "  psql COPY of the same rows (raw columns): $copied lines, $D_COPY_EPS lines/s"
}

# d. The reference of issue 13's NDJSON target: PostgreSQL's own COPY of the same
# rows (all of them, in stream order) as JSON lines with the fields of the export,
# over the unix socket; sets D_JSON_EPS D_JSON_ROWS D_JSON_SECS.
ndjson_copy_reference() {
  local t0 t1
  wait_quiet
  diag_begin
  t0="$EPOCHREALTIME"
  D_JSON_ROWS="$(psql_bench -c "COPY (SELECT json_build_object('id', e.event_id, 'stream', e.stream,
      'offset', e.stream_offset, 'global_position', e.global_position, 'type', e.event_type, 'data', e.data,
      'metadata', e.metadata, 'created_at', e.created_at) FROM event_streaming.events e
      WHERE e.stream = 'read-1' ORDER BY e.stream_offset) TO STDOUT" | wc -l)"
  t1="$EPOCHREALTIME"
  diag_end "d. reference: COPY of the same rows as JSON lines"
  D_JSON_SECS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  D_JSON_EPS="$(awk -v e="$D_JSON_ROWS" -v s="$D_JSON_SECS" 'BEGIN { printf "%.0f", e / s }')"
  say "  psql COPY of the same rows as JSON lines: $D_JSON_ROWS lines in $D_JSON_SECS s, $D_JSON_EPS lines/s"
}

report() { # report SECONDS [NAME]: the table into NAME-<date>.md (default streams)
  local total="$1" out
  mkdir -p "$BENCH_RESULTS"
  out="$BENCH_RESULTS/${2:-streams}-$BENCH_DATE.md"
  {
    report_header "streamq ${2:-streams} benchmark" "load generator, streamq and PostgreSQL"
    printf -- '- streamq release build, --log-level info (one log line per request, to a file), default pool and threads unless a row says otherwise\n'
    printf -- '- %s, %s, nginx %s (access log on, keepalive_requests 1000000); whole run %s s\n\n' \
      "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" "$(pgbench --version)" "$(nginx -v 2>&1 | sed 's|.*/||')" "$total"
    table_print
    printf '\nWhere the CPU and the commits went (2 cores = 2.00; commits are writing transactions; WAL fsyncs from pg_stat_wal are approximate):\n\n'
    diag_print
  } >"$out"
  printf '\n'
  cat "$out"
  say "written to $out"
}

