# shellcheck shell=bash disable=SC2034,SC2153  # globals shared between bench/lib.sh and bench/queues.sh
# The queue benchmark; sourced by bench/run after bench/lib.sh. See bench/README.md.
# Durations can be shortened for a smoke run: BENCH_SCALE=0.2 bench/run queues.

q_scale() { awk -v s="$1" -v k="${BENCH_SCALE:-1}" 'BEGIN { v = int(s * k + 0.5); print (v < 2 ? 2 : v) }'; }

Q_T="$(q_scale 15)"      # measured seconds per configuration and side
Q_WARM="$(q_scale 3)"    # warm-up seconds before each measurement (not counted)
Q_BATCHES="${BENCH_QUEUE_BATCHES:-1 10}"
Q_WORKERS="${BENCH_QUEUE_WORKERS:-16 64}"
Q_READ_VT=30             # lease of a dequeue/read on both sides (streamq's default)
Q_PHASES="${BENCH_QUEUE_PHASES:-cycle step}" # cycle: against PGMQ-style SQL; step: a worker's step, calls vs one transaction

# One message of either side: the same small JSON object as the streams benchmark.
q_message() { printf '{"order": %d, "sku": "abc-123", "qty": 1}' "$1"; }

# A jsonb[] literal of N messages (pgmq.send_batch takes jsonb[]).
q_jsonb_array() {
  local n="$1" i m out="{"
  for i in $(seq 1 "$n"); do
    m="$(q_message "$i")"
    m="${m//\"/\\\"}"
    out="$out$([ "$i" -gt 1 ] && printf ',')\"$m\""
  done
  printf '%s}' "$out"
}

# Fields of the last diag row: secs, streamq/postgres/load-generator cores, commits/s, WAL MiB/s.
q_last_diag() {
  printf '%s\n' "${DIAG[${#DIAG[@]} - 1]}" | awk -F'|' '{ gsub(/ /, ""); print $3, $4, $5, $6, $9, $12 }'
}

# Cost per acked message from the last diag row: adds a row to COST.
# q_cost LABEL MSGS_PER_S
COST=()
q_cost() {
  local label="$1" mps="$2" secs sq pg cl commits wal
  read -r secs sq pg cl commits wal < <(q_last_diag)
  COST+=("$(awk -v l="$label" -v m="$mps" -v sq="$sq" -v pg="$pg" -v cl="$cl" -v c="$commits" -v w="$wal" 'BEGIN {
    if (m <= 0) m = 1e-9
    printf "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |", l, sprintf("%.0f", m),
      sq * 1e6 / m, pg * 1e6 / m, cl * 1e6 / m, (sq + pg + cl) * 1e6 / m, c / m, w * 1048576 / m / 1024 }')")
}

q_cost_print() {
  printf '| phase | acked messages/s | streamq CPU µs/msg | postgres CPU µs/msg | load generator CPU µs/msg | total CPU µs/msg | commits/msg | WAL KiB/msg |\n'
  printf '|---|---|---|---|---|---|---|---|\n'
  printf '%s\n' "${COST[@]}"
}

# Before each streamq configuration: its queue tables emptied by TRUNCATE, which
# leaves them as the reference's freshly created table is (empty, never analyzed),
# so that both sides start alike. Not VACUUM ANALYZE: on an empty table that records
# "0 rows, 0 pages", the plans cached in streamq's functions then choose sequential
# scans for the whole phase (see bench/README.md), and the figure would measure that.
q_reset_streamq_tables() {
  psql_bench -c "TRUNCATE event_streaming.queue_events" >/dev/null 2>&1 ||
    die "TRUNCATE of streamq's queue tables failed"
}

# streamq: queue_load against queue bench-b<B>-w<W>; sets S_MPS S_P50 S_P99 S_AVG (ms) S_ERR S_LINE.
q_load() { # q_load NAME QUEUE BATCH WORKERS SECONDS [MODE]
  local out="$BENCH_TMP/$1.load"
  "$BENCH_TMP/queue_load" 127.0.0.1 "$SQ_PORT" "$2" "$3" "$4" "$5" "${6:-cycle}" >"$out" 2>"$out.err" ||
    { cat "$out" "$out.err" >&2; die "queue_load $1 failed"; }
  S_LINE="$(grep '^BENCH ' "$out")" || { cat "$out" "$out.err" >&2; die "queue_load $1 printed no summary"; }
}

phase_streamq() { # phase_streamq BATCH WORKERS
  local b="$1" w="$2" q="bench-b$1-w$2"
  q_reset_streamq_tables
  wait_quiet
  q_load "warmup-b$b-w$w" "$q" "$b" "$w" "$Q_WARM"
  [ "$w" = 64 ] && sampler_start "$SQ_PID"
  diag_begin
  q_load "cycle-b$b-w$w" "$q" "$b" "$w" "$Q_T"
  diag_end "streamq, batch $b, $w workers"
  if [ "$w" = 64 ]; then
    sampler_stop
    [ "$SAMPLED_RSS" -gt "${Q_RSS64:-0}" ] && Q_RSS64="$SAMPLED_RSS"
  fi
  local acked secs
  acked="$(kv "$S_LINE" acked)" secs="$(kv "$S_LINE" secs)"
  S_MPS="$(awk -v a="$acked" -v s="$secs" 'BEGIN { printf "%.0f", a / s }')"
  S_P50="$(awk -v v="$(kv "$S_LINE" deq_p50_us)" 'BEGIN { printf "%.2f", v / 1000 }')"
  S_P99="$(awk -v v="$(kv "$S_LINE" deq_p99_us)" 'BEGIN { printf "%.2f", v / 1000 }')"
  S_AVG="$(awk -v v="$(kv "$S_LINE" deq_avg_us)" 'BEGIN { printf "%.2f", v / 1000 }')"
  S_ERR="$(kv "$S_LINE" errors)"
  local depth
  depth="$(curl -s "$SQ_URL/queues/$q" | sed -n 's/.*"pending":\([0-9]*\).*"in_flight":\([0-9]*\).*/pending \1, in flight \2/p')"
  say "  streamq b=$b w=$w: $S_MPS msgs/s, dequeue p50 $S_P50 ms p99 $S_P99 ms (avg $S_AVG), errors $S_ERR; queue after: ${depth:-?}"
  say "    $S_LINE"
  [ "$S_ERR" = 0 ] || say "  WARNING: streamq b=$b w=$w: $S_ERR failed requests (see $BENCH_TMP/cycle-b$b-w$w.load.err)"
  q_cost "streamq, batch $b, $w workers" "$S_MPS"
}

# A worker's step (dequeue, then ack + append + enqueue) with `queue_load ... MODE`;
# sets T_SPS (steps/s), T_P50 T_P99 (ms, of the step after its dequeue), T_ERR.
phase_step() { # phase_step MODE WORKERS
  local mode="$1" w="$2" q="bench-$1-w$2"
  q_reset_streamq_tables
  wait_quiet
  "$BENCH_TMP/queue_load" 127.0.0.1 "$SQ_PORT" "$q" 1 "$w" "$Q_WARM" "$mode" >/dev/null 2>&1 || die "queue_load $mode warm-up failed"
  diag_begin
  q_load "$mode-w$w" "$q" 1 "$w" "$Q_T" "$mode"
  diag_end "worker step ($mode), $w workers"
  local steps secs
  steps="$(kv "$S_LINE" acked)" secs="$(kv "$S_LINE" secs)"
  T_SPS="$(awk -v a="$steps" -v s="$secs" 'BEGIN { printf "%.0f", a / s }')"
  T_P50="$(awk -v v="$(kv "$S_LINE" ack_p50_us)" 'BEGIN { printf "%.2f", v / 1000 }')"
  T_P99="$(awk -v v="$(kv "$S_LINE" ack_p99_us)" 'BEGIN { printf "%.2f", v / 1000 }')"
  T_ERR="$(kv "$S_LINE" errors)"
  say "  worker step $mode w=$w: $T_SPS steps/s, step p50 $T_P50 ms p99 $T_P99 ms, errors $T_ERR"
  say "    $S_LINE"
  q_cost "worker step ($mode), $w workers" "$T_SPS"
}

run_steps() {
  local w sep sep50 sep99 r
  for w in $Q_WORKERS; do
    say "worker step, $w workers: ack + append + enqueue as three calls ${Q_T}s, then as one transaction ${Q_T}s"
    phase_step step "$w"
    sep="$T_SPS" sep50="$T_P50" sep99="$T_P99"
    phase_step step-tx "$w"
    r="$(ratio "$T_SPS" "$sep")"
    row "worker step (dequeue, then ack + append + enqueue), $w workers: steps/s" \
      "$(num "$T_SPS") as one POST /transactions (step p50 $T_P50 ms, p99 $T_P99 ms$([ "$T_ERR" = 0 ] || printf ', %s failed' "$T_ERR"))" \
      "$(num "$sep") as three calls (p50 $sep50 ms, p99 $sep99 ms)" "$r" "" ""
  done
}

# The PGMQ-style reference through pgbench; sets P_MPS P_READ (avg ms) P_CYCLE50 P_CYCLE99.
q_pgbench() { # q_pgbench NAME BATCH CLIENTS SECONDS [-l]
  local name="$1" b="$2" c="$3" secs="$4" log="${5:-}" out="$BENCH_TMP/$1.pgbench" dir="$BENCH_TMP/$1.logs"
  local script args=()
  [ -n "$log" ] && args+=("$log")
  if [ "$b" = 1 ]; then
    script="$BENCH_DIR/pgbench/queue_cycle1.sql"
    args+=(-D "msg=$(q_message 1)")
  else
    script="$BENCH_DIR/pgbench/queue_cycle_batch.sql"
    args+=(-D "msgs=$(q_jsonb_array "$b")" -D "batch=$b")
  fi
  mkdir -p "$dir"
  (cd "$dir" && pgbench -n -M prepared -c "$c" -j 2 -T "$secs" -r \
      -h "$BENCH_TMP/pg/socket" -p "$PG_PORT" -U postgres "${args[@]}" -f "$script" bench) >"$out" 2>&1 ||
    { cat "$out" >&2; die "pgbench $name failed"; }
  P_OUT="$out" P_LOGS="$dir"
}

phase_pgbench() { # phase_pgbench BATCH CLIENTS
  local b="$1" c="$2"
  psql_bench -f "$BENCH_DIR/pgbench/queue_setup.sql" >/dev/null 2>&1 || die "queue_setup.sql failed"
  wait_quiet
  q_pgbench "pgwarm-b$b-c$c" "$b" "$c" "$Q_WARM"
  local seq0 n0 seq1 n1
  read -r seq0 n0 < <(psql_bench -tA -F ' ' -c "SELECT (SELECT last_value FROM pgmq.q_bench_msg_id_seq), count(*) FROM pgmq.q_bench")
  diag_begin
  q_pgbench "pgmq-b$b-c$c" "$b" "$c" "$Q_T" -l
  diag_end "PGMQ-style SQL (pgbench), batch $b, $c clients"
  read -r seq1 n1 < <(psql_bench -tA -F ' ' -c "SELECT (SELECT last_value FROM pgmq.q_bench_msg_id_seq), count(*) FROM pgmq.q_bench")
  local out="$P_OUT" tps xacts failed
  tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$out")"
  xacts="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")"
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")"
  if [ -z "$tps" ] || [ -z "$xacts" ]; then cat "$out" >&2; die "no tps in pgbench output"; fi
  [ "${failed:-0}" = 0 ] || say "  WARNING: pgbench b=$b c=$c: $failed failed cycles"
  # Deleted (acked) messages = sent - growth of the table; over pgbench's own elapsed time.
  local deleted=$(((seq1 - seq0) - (n1 - n0)))
  P_MPS="$(awk -v d="$deleted" -v t="$tps" -v x="$xacts" 'BEGIN { printf "%.0f", d * t / x }')"
  # -r: average latency of each statement (the read is the second).
  P_READ="$(awk '/statement latencies/ { f = 1; next } f && NF >= 3 { n++; if (n == 2) { printf "%.2f", $1; exit } }' "$out")"
  read -r P_CYCLE50 P_CYCLE99 < <(cat "$P_LOGS"/pgbench_log.* | awk '{ print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[int(NR * 0.50) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000 }')
  rm -rf "$P_LOGS"
  say "  PGMQ-style b=$b c=$c: $P_MPS msgs/s ($xacts cycles, tps $tps, $deleted deleted, $((n1)) left), read avg $P_READ ms, cycle p50 $P_CYCLE50 p99 $P_CYCLE99 ms"
  q_cost "PGMQ-style SQL (pgbench), batch $b, $c clients" "$P_MPS"
}

run_queues() {
  bench_setup
  say "building bench/queue_load.c"
  cc -O2 -std=c17 -pthread -o "$BENCH_TMP/queue_load" "$BENCH_DIR/queue_load.c" 2>"$BENCH_TMP/queue_load.cc.log" ||
    { cat "$BENCH_TMP/queue_load.cc.log" >&2; die "queue_load did not build"; }
  streamq_start
  local started="$EPOCHREALTIME" hwm0
  hwm0="$(status_kb "$SQ_PID" VmHWM)"
  Q_RSS64=0
  local b w
  [[ " $Q_PHASES " == *" cycle "* ]] || Q_BATCHES=""
  for b in $Q_BATCHES; do
    for w in $Q_WORKERS; do
      say "batch $b, $w workers/clients: streamq ${Q_T}s, then PGMQ-style SQL through pgbench ${Q_T}s (${Q_WARM}s warm-up each)"
      phase_streamq "$b" "$w"
      phase_pgbench "$b" "$w"
      # Issue 13's targets: ≥ 1.5 × the reference in batches of 10, ≥ 1.0 × in batches of 1.
      local id="" bound="" r fig base
      case "$b-$w" in
        10-16) id=T3a bound=1.50 ;; 10-64) id=T3b bound=1.50 ;; 1-16) id=T3c bound=1.00 ;; 1-64) id=T3d bound=1.00 ;;
      esac
      r="$(ratio "$S_MPS" "$P_MPS")"
      fig="$(num "$S_MPS") (dequeue p50 $S_P50 ms, p99 $S_P99 ms, avg $S_AVG ms$([ "$S_ERR" = 0 ] || printf ', %s failed requests' "$S_ERR"))"
      base="$(num "$P_MPS") (PGMQ-style SQL, pgbench $w clients; read avg $P_READ ms, cycle p50 $P_CYCLE50 ms, p99 $P_CYCLE99 ms)"
      if [ -n "$id" ]; then
        target "$id" "**queue cycle, batch $b, $w workers**: acked messages/s" "$fig" "$base" "$r" "≥ $bound × PGMQ-style, no failed requests" \
          "$r" ge "$bound" "$S_ERR" le 0
      else
        row "queue cycle, batch $b, $w workers: acked messages/s" "$fig" "$base" "$r" "" ""
      fi
    done
  done
  [[ " $Q_PHASES " != *" step "* ]] || run_steps
  local hwm
  hwm="$(status_kb "$SQ_PID" VmHWM)"
  streamq_stop # keeps its VmHWM in SQ_HWM_MAX
  local total
  total="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
  row "RSS during the 64-worker queue load (max VmRSS)" "$(mib "$Q_RSS64")" "" "" "" ""
  target T6b "**RSS under every load of this suite** (VmHWM of streamq at the end)" "$(mib "$SQ_HWM_MAX")" "" "" \
    "< 64 MiB" "$(kb_mib "$SQ_HWM_MAX")" lt 64
  row "peak RSS (VmHWM), idle after start / after the run" "$(mib "$hwm0") / $(mib "$hwm")" "" "" "" ""
  q_report "$total"
}

q_report() {
  local total="$1" out
  mkdir -p "$BENCH_RESULTS"
  out="$BENCH_RESULTS/queues-$BENCH_DATE.md"
  {
    report_header "streamq queues benchmark" "load generator, streamq and PostgreSQL"
    printf -- '- streamq release build, --log-level info (one log line per request, to a file), default pool (16) and threads (16)\n'
    printf -- '- load generator: bench/queue_load.c (one thread and one keep-alive connection per worker); cycle = enqueue B, dequeue max B, ack (one call per message for B = 1, one batch ack for B = 10); worker step = dequeue 1, then ack it, append one event to the worker'"'"'s own stream and enqueue the follow-up (three calls, or one POST /transactions); %s s per configuration after %s s of warm-up\n' "$Q_T" "$Q_WARM"
    printf -- '- reference: **PGMQ-style SQL, not PGMQ** (no PGMQ package in Debian): the statements of pgmq.send/send_batch, read and delete as prepared statements, one transaction each, %s (bench/pgbench/queue_*.sql); whole run %s s\n\n' \
      "$(pgbench --version)" "$total"
    table_print
    printf '\nWhere the CPU and the commits went (2 cores = 2.00; commits are writing transactions; WAL fsyncs from pg_stat_wal are approximate):\n\n'
    diag_print
    printf '\nCost per acked message (CPU over the whole phase divided by acked messages; commits and WAL likewise):\n\n'
    q_cost_print
  } >"$out"
  printf '\n'
  cat "$out"
  say "written to $out"
}
