# shellcheck shell=bash disable=SC2034,SC2153  # globals shared between bench/lib.sh and bench/live.sh
# The live-delivery benchmark (NOTIFY's cost, long-poll wake-ups, SSE fan-out,
# webhook delivery); sourced by bench/run after bench/lib.sh. See bench/README.md.
# Durations can be shortened for a smoke run: BENCH_SCALE=0.3 bench/run live.

l_scale() { awk -v s="$1" -v k="${BENCH_SCALE:-1}" 'BEGIN { v = int(s * k + 0.5); print (v < 2 ? 2 : v) }'; }

L_STREAMS=1000                          # 1: streams the appends are spread over (as in streams.sh)
L_T_APPEND="$(l_scale 15)"              # 1: measured seconds per load and --notify setting
L_WARM="$(l_scale 3)"                   # 1: warm-up of each fresh service (not counted)
L_WAIT_STREAMS=10                       # 2: streams the long polls wait on
L_WAIT_PER=100                          # 2: long polls per stream (10 x 100 = 1,000)
L_ROUNDS="$(l_scale 50)"                # 2: appends, one stream at a time
L_INTERVAL_MS=200                       # 2: between appends
L_WAIT_S=30                             # 2: the long polls' wait=
L_SSE_SUBS=100                          # 3: subscribers
L_T_SSE="$(l_scale 10)"                 # 3: seconds of appending
L_SSE_BATCH=10                          # 3: events per append
L_SSE_RATE="${BENCH_SSE_RATE:-0}"       # 3: events/s appended, 0 = as fast as one connection goes
L_WH_EVENTS="${BENCH_WEBHOOK_EVENTS:-100000}" # 4: events preloaded for the webhook
L_WH_BATCH=100                          # 4: the webhook's max_batch
L_T_WH="${BENCH_WEBHOOK_SECONDS:-$(l_scale 60)}" # 4: most seconds the delivery may take (then the figure is what arrived)
L_PIDS=()                               # load generators and receivers running in the background

l_verdict() { # l_verdict VALUE ge|lt|eq BOUND
  awk -v v="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == "ge") ? (v >= b) : (op == "lt") ? (v < b) : (v == b); print ok ? "yes" : "**no**" }'
}
ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }

# Our background processes are stopped by PID before lib.sh's cleanup stops streamq and PostgreSQL.
# set +e first: under bench/run's set -e, a killed child's status from wait would end the trap.
live_cleanup() {
  local rc=$? p
  set +e
  for p in "${L_PIDS[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  (exit "$rc") # bench_cleanup reads the run's status from $?
  bench_cleanup
}

l_bg() { # l_bg OUT CMD...: starts CMD in the background with stdout to OUT (stderr to OUT.err); sets L_PID
  local out="$1"
  shift
  "$@" >"$out" 2>"$out.err" &
  L_PID=$!
  L_PIDS+=("$L_PID")
}

l_wait() { # l_wait PID: waits for it and forgets it; its exit status
  local rc=0 p keep=()
  wait "$1" || rc=$?
  for p in "${L_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  L_PIDS=("${keep[@]}")
  return "$rc"
}

l_bench_line() { # l_bench_line FILE NAME: the BENCH line of a live_load output, or die
  grep '^BENCH ' "$1" || { cat "$1" "$1.err" >&2; die "live_load $2 printed no summary"; }
}

sq_threads() { find "/proc/$SQ_PID/task" -mindepth 1 -maxdepth 1 | wc -l; }
sq_fds() { find "/proc/$SQ_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# streamq's database connections: "total busy" (busy: in any state but idle).
sq_db_conns() {
  psql_bench -tA -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE state <> 'idle')
                              FROM pg_stat_activity WHERE application_name = 'streamq'"
}
L_POOL_MAX=16 # streamq's default --pool-max; besides the pool it holds a LISTEN and a webhook connection

# 1. The same append load against a fresh streamq with --notify true, then --notify false.
# l_appends BATCH CONNS PREFIX: sets L_ON L_ON_P99 L_OFF L_OFF_P99 (requests/s, ms).
l_appends() {
  local b="$1" c="$2" prefix="$3" notify
  for notify in true false; do
    streamq_stop
    streamq_start --notify "$notify"
    wait_quiet
    wrk_run "warmup-b$b-notify-$notify" "$c" "$L_WARM" append.lua "$SQ_URL" -- "$b" "$L_STREAMS" "$prefix" >/dev/null 2>&1
    diag_begin
    wrk_run "append-b$b-c$c-notify-$notify" "$c" "$L_T_APPEND" append.lua "$SQ_URL" -- "$b" "$L_STREAMS" "$prefix"
    diag_end "1. appends of $b, $c conns, --notify $notify"
    if [ "$notify" = true ]; then L_ON="$W_RPS" L_ON_P99="$W_P99" L_ON_BAD="$W_BAD"; else L_OFF="$W_RPS" L_OFF_P99="$W_P99" L_OFF_BAD="$W_BAD"; fi
  done
}

# 2. 1,000 long polls, then one append at a time; sets the W_* figures.
l_waiters() {
  local sync="$BENCH_TMP/waiters.sync" out="$BENCH_TMP/waiters.load" i
  mkdir -p "$sync"
  wait_quiet
  LW_THREADS0="$(sq_threads)" LW_RSS0="$(status_kb "$SQ_PID" VmRSS)" LW_FDS0="$(sq_fds)"
  read -r LW_CONNS0 LW_BUSY0 < <(sq_db_conns)
  l_bg "$out" "$BENCH_TMP/live_load" waiters 127.0.0.1 "$SQ_PORT" wake- "$L_WAIT_STREAMS" "$L_WAIT_PER" \
    "$L_ROUNDS" "$L_INTERVAL_MS" "$L_WAIT_S" "$sync"
  local pid="$L_PID"
  for i in $(seq 1 600); do
    [ -e "$sync/ready" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$out" "$out.err" >&2; die "live_load waiters exited before its long polls were in place"; }
    sleep 0.1
  done
  [ -e "$sync/ready" ] || die "live_load waiters did not get its long polls in place within 60 s"
  # Every long poll is sent and has had 1.5 s to park: the service as it waits.
  LW_THREADS1="$(sq_threads)" LW_RSS1="$(status_kb "$SQ_PID" VmRSS)" LW_FDS1="$(sq_fds)"
  read -r LW_CONNS1 LW_BUSY1 < <(sq_db_conns)
  LW_PARKED="$( (ss -Htn state established "( sport = :$SQ_PORT )" 2>/dev/null || true) | wc -l)"
  say "  1,000 long polls waiting: $LW_PARKED client connections, threads $LW_THREADS0 -> $LW_THREADS1, database connections $LW_CONNS0 ($LW_BUSY0 busy) -> $LW_CONNS1 ($LW_BUSY1 busy), VmRSS $(mib "$LW_RSS0") -> $(mib "$LW_RSS1")"
  sampler_start "$SQ_PID"
  diag_begin
  touch "$sync/go"
  l_wait "$pid" || { cat "$out.err" >&2; die "live_load waiters failed"; }
  diag_end "2. wake-ups: 1,000 long polls, $L_ROUNDS appends"
  sampler_stop
  LW_RSS2="$SAMPLED_RSS"
  LW_THREADS2="$(sq_threads)"
  LW_LINE="$(l_bench_line "$out" waiters)"
  say "    $LW_LINE"
  [ -s "$out.err" ] && say "  live_load waiters said: $(head -c 600 "$out.err" | tr '\n' ' ')"
  # The clients are gone: how long the service keeps their (parked) sockets.
  local t0="$EPOCHREALTIME"
  LW_FDS_AFTER="$(sq_fds)"
  for i in $(seq 1 $(((L_WAIT_S + 5) * 10))); do
    [ "$(sq_fds)" -le $((LW_FDS0 + 2)) ] && break
    sleep 0.1
  done
  LW_FDS_END="$(sq_fds)"
  LW_RELEASE_S="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
  say "  after the clients closed: $LW_FDS_AFTER open descriptors in streamq (idle: $LW_FDS0), $LW_FDS_END after $LW_RELEASE_S s"
}

# 3. SSE fan-out; sets LS_LINE and the thread/connection counts during it.
l_sse() {
  local out="$BENCH_TMP/sse.load"
  wait_quiet
  sampler_start "$SQ_PID"
  diag_begin
  l_bg "$out" "$BENCH_TMP/live_load" sse 127.0.0.1 "$SQ_PORT" fan-1 "$L_SSE_SUBS" "$L_T_SSE" "$L_SSE_BATCH" "$L_SSE_RATE"
  local pid="$L_PID"
  sleep "$(awk -v t="$L_T_SSE" 'BEGIN { print 1 + t / 2 }')"
  LS_THREADS="$(sq_threads)"
  read -r LS_CONNS LS_BUSY < <(sq_db_conns)
  l_wait "$pid" || { cat "$out.err" >&2; die "live_load sse failed"; }
  diag_end "3. SSE: $L_SSE_SUBS subscribers, appends of $L_SSE_BATCH"
  sampler_stop
  LS_RSS="$SAMPLED_RSS"
  LS_LINE="$(l_bench_line "$out" sse)"
  say "    $LS_LINE"
  [ -s "$out.err" ] && say "  live_load sse said: $(head -c 600 "$out.err" | tr '\n' ' ')"
  return 0
}

l_receiver() { # l_receiver NAME EXPECT TIMEOUT: starts a receiver; sets LR_PID LR_PORT LR_OUT
  LR_OUT="$BENCH_TMP/$1.recv"
  local pf="$BENCH_TMP/$1.port" i
  rm -f "$pf"
  l_bg "$LR_OUT" "$BENCH_TMP/live_load" receiver "$pf" "$2" "$3"
  LR_PID="$L_PID"
  for i in $(seq 1 50); do [ -s "$pf" ] && break; sleep 0.1; done
  [ -s "$pf" ] || { cat "$LR_OUT.err" >&2; die "the webhook receiver did not start"; }
  LR_PORT="$(cat "$pf")"
}

# 4. Webhook delivery of a preloaded stream, then the same receiver fed directly.
l_webhook() {
  local body="$BENCH_TMP/hook1000.json" n=$((L_WH_EVENTS / 1000)) i t0 t1
  {
    printf '{"events": ['
    for i in $(seq 1 1000); do
      [ "$i" -gt 1 ] && printf ', '
      printf '{"type": "Hook", "data": {"order": %d, "sku": "abc-123", "qty": 1}}' "$i"
    done
    printf ']}'
  } >"$body"
  if [ $((L_WH_EVENTS % 1000)) != 0 ] || [ "$n" -lt 1 ]; then die "BENCH_WEBHOOK_EVENTS must be a multiple of 1000"; fi
  say "  loading $L_WH_EVENTS events into wh-1 (1000-event appends, 4 in parallel)"
  t0="$EPOCHREALTIME"
  seq 1 "$n" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$body" "$SQ_URL/streams/wh-1/events" >"$BENCH_TMP/wh-load.codes"
  t1="$EPOCHREALTIME"
  local ok
  ok="$(grep -c '^201$' "$BENCH_TMP/wh-load.codes" || true)"
  [ "$ok" = "$n" ] || die "only $ok of $n webhook preload appends answered 201"
  say "  loaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

  wait_quiet
  l_receiver webhook "$L_WH_EVENTS" "$L_T_WH"
  diag_begin
  local put="$EPOCHREALTIME" code
  code="$(curl -s -o "$BENCH_TMP/webhook.put" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    -d "{\"url\": \"http://127.0.0.1:$LR_PORT/\", \"stream\": \"wh-1\", \"from\": \"start\", \"max_batch\": $L_WH_BATCH}" \
    "$SQ_URL/webhooks/bench")"
  [ "$code" = 201 ] || { cat "$BENCH_TMP/webhook.put" >&2; die "PUT /webhooks/bench answered $code"; }
  l_wait "$LR_PID" || { cat "$LR_OUT.err" >&2; die "the webhook receiver failed"; }
  diag_end "4. webhook delivery of $L_WH_EVENTS events, max_batch $L_WH_BATCH"
  LH_LINE="$(l_bench_line "$LR_OUT" receiver)"
  LH_STATE="$(curl -s "$SQ_URL/webhooks/bench")"
  curl -s -o /dev/null -X DELETE "$SQ_URL/webhooks/bench"
  say "    $LH_LINE"
  [ -s "$LR_OUT.err" ] && say "  receiver said: $(head -c 600 "$LR_OUT.err" | tr '\n' ' ')"
  local got last
  got="$(kv "$LH_LINE" received)" last="$(kv "$LH_LINE" last_us)"
  LH_SECS="$(awk -v a="$put" -v l="$last" 'BEGIN { printf "%.2f", (l > 0 ? l / 1e6 - a : 0) }')"
  LH_EPS="$(awk -v n="$got" -v s="$LH_SECS" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
  say "  dispatcher: $got of $L_WH_EVENTS events in $LH_SECS s after the PUT ($LH_EPS events/s); webhook after: $LH_STATE"

  # Baseline: the same receiver, the same bodies posted one after the other.
  wait_quiet
  l_receiver baseline "$L_WH_EVENTS" "$L_T_WH"
  local out="$BENCH_TMP/post.load" sync="$BENCH_TMP/post.sync"
  mkdir -p "$sync"
  l_bg "$out" "$BENCH_TMP/live_load" post 127.0.0.1 "$SQ_PORT" wh-1 "$L_WH_BATCH" "$L_WH_EVENTS" "$LR_PORT" "$sync"
  local pid="$L_PID"
  for i in $(seq 1 600); do
    [ -e "$sync/ready" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  diag_begin # the bodies are read from streamq; only the posting is measured
  touch "$sync/go"
  l_wait "$pid" || { cat "$out" "$out.err" >&2; die "live_load post failed"; }
  l_wait "$LR_PID" || { cat "$LR_OUT.err" >&2; die "the baseline receiver failed"; }
  diag_end "4. baseline: the same batches posted by live_load"
  LB_LINE="$(l_bench_line "$out" post)"
  LB_RECV="$(l_bench_line "$LR_OUT" receiver)"
  say "    $LB_LINE"
  say "    $LB_RECV"
}

run_live() {
  bench_setup
  trap live_cleanup EXIT
  say "building bench/live_load.c"
  cc -O2 -std=c17 -pthread -o "$BENCH_TMP/live_load" "$BENCH_DIR/live_load.c" "$BENCH_DIR/live_waiters.c" \
    "$BENCH_DIR/live_sse.c" "$BENCH_DIR/live_webhook.c" 2>"$BENCH_TMP/live_load.cc.log" ||
    { cat "$BENCH_TMP/live_load.cc.log" >&2; die "live_load did not build"; }
  local started="$EPOCHREALTIME"

  say "1. appends with NOTIFY on and off (a fresh streamq each): one event at 64 connections, 100 at 16, ${L_T_APPEND}s each"
  l_appends 1 64 bench-
  local s_on="$L_ON" s_on99="$L_ON_P99" s_off="$L_OFF" s_off99="$L_OFF_P99" s_bad=$((L_ON_BAD + L_OFF_BAD))
  l_appends 100 16 batch-
  local b_on=$((L_ON * 100)) b_on99="$L_ON_P99" b_off=$((L_OFF * 100)) b_off99="$L_OFF_P99" b_bad=$((L_ON_BAD + L_OFF_BAD))
  streamq_stop
  streamq_start # the defaults (--notify true) for the live phases

  say "2. wake-up latency: $((L_WAIT_STREAMS * L_WAIT_PER)) long polls (wait=$L_WAIT_S) on $L_WAIT_STREAMS streams, $L_ROUNDS appends ${L_INTERVAL_MS} ms apart"
  l_waiters

  say "3. SSE fan-out: $L_SSE_SUBS subscribers, appends of $L_SSE_BATCH for ${L_T_SSE}s ($([ "$L_SSE_RATE" = 0 ] && echo 'as fast as one connection goes' || echo "$L_SSE_RATE events/s"))"
  l_sse

  say "4. webhook delivery of $L_WH_EVENTS preloaded events (max_batch $L_WH_BATCH, at most ${L_T_WH}s), then the receiver's own rate"
  l_webhook
  local hwm
  hwm="$(status_kb "$SQ_PID" VmHWM)"
  streamq_stop # keeps its VmHWM in SQ_HWM_MAX, as did the stops of the --notify services in 1

  local total
  total="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"

  # 1
  row "**single-event appends/s, 64 conns, --notify true** (vs false)" "$(num "$s_on") (p99 $s_on99 ms)" \
    "$(num "$s_off") (--notify false, p99 $s_off99 ms)" "$(ratio "$s_on" "$s_off")" "" ""
  row "**100-event batch appends, 16 conns, events/s, --notify true** (vs false)" "$(num "$b_on") (p99 $b_on99 ms)" \
    "$(num "$b_off") (--notify false, p99 $b_off99 ms)" "$(ratio "$b_on" "$b_off")" "" ""
  [ $((s_bad + b_bad)) = 0 ] || row "failed append requests in 1 (wrk non-2xx + socket errors)" "$((s_bad + b_bad))" "" "" "0" "**no**"

  # 2
  local l="$LW_LINE"
  local n_exp n_ans miss
  n_exp="$(kv "$l" expected)" n_ans="$(kv "$l" answered)" miss="$(kv "$l" missing)"
  row "**wake-up latency, 1,000 long polls** (10 streams × 100), from the append's 201 (client side) to each waiter's answer: p50 / p99 / max" \
    "$(ms "$(kv "$l" lat_p50_us)") / $(ms "$(kv "$l" lat_p99_us)") / $(ms "$(kv "$l" lat_max_us)") ms (min $(ms "$(kv "$l" lat_min_us)"))" \
    "from the append request sent: $(ms "$(kv "$l" sent_p50_us)") / $(ms "$(kv "$l" sent_p99_us)") / $(ms "$(kv "$l" sent_max_us)") ms; the append itself p50 $(ms "$(kv "$l" append_p50_us)") ms, max $(ms "$(kv "$l" append_max_us)") ms" \
    "" "p99 < 50 ms after the commit" "$(l_verdict "$(kv "$l" lat_p99_us)" lt 50000)"
  row "wake-ups delivered ($(kv "$l" rounds_ok) appends × $L_WAIT_PER waiters)" \
    "$(num "$n_ans") of $(num "$n_exp") (missing $miss, errors $(kv "$l" errors), reconnects $(kv "$l" reconnects), unexpected events $(kv "$l" unexpected), empty pages $(kv "$l" empty_pages), late appends $(kv "$l" slips))" \
    "" "" "all" "$(l_verdict "$miss" eq 0)"
  row "**streamq threads**: idle / 1,000 waiting / after the wake-ups / 100 SSE subscribers" \
    "$LW_THREADS0 / $LW_THREADS1 / $LW_THREADS2 / $LS_THREADS" "" "" "unchanged" \
    "$(l_verdict "$(( (LW_THREADS1 != LW_THREADS0) + (LS_THREADS != LW_THREADS0) ))" eq 0)"
  row "**streamq database connections** (pg_stat_activity, application_name streamq; busy = not idle): idle / 1,000 waiting / 100 SSE subscribers mid-run" \
    "$LW_CONNS0 ($LW_BUSY0 busy) / $LW_CONNS1 ($LW_BUSY1 busy) / $LS_CONNS ($LS_BUSY busy)" \
    "at most $((L_POOL_MAX + 2)): pool $L_POOL_MAX + LISTEN + webhook link" "" "unchanged: none busy while waiting, none beyond the pool" \
    "$(l_verdict "$(( LW_BUSY1 + (LW_CONNS1 > L_POOL_MAX + 2) ))" eq 0)"
  row "VmRSS: idle / 1,000 waiting / max during the wake-ups" \
    "$(mib "$LW_RSS0") / $(mib "$LW_RSS1") / $(mib "$LW_RSS2")" "" "" "" ""
  row "open descriptors in streamq: idle / 1,000 waiting / just after the clients closed / after $LW_RELEASE_S s" \
    "$LW_FDS0 / $LW_FDS1 / $LW_FDS_AFTER / $LW_FDS_END" "" "" "" ""

  # 3
  l="$LS_LINE"
  local app_eps del_eps subs
  app_eps="$(kv "$l" append_eps)" del_eps="$(kv "$l" deliver_eps)" subs="$(kv "$l" subscribers)"
  row "**SSE fan-out, $subs subscribers**: events/s delivered, all subscribers (frames received / time from the first append to the last frame)" \
    "$(num "$del_eps") ($(num "$(kv "$l" frames)") frames in $(kv "$l" deliver_secs) s)" \
    "$(num "$(awk -v a="$app_eps" -v s="$subs" 'BEGIN { print a * s }')") (append rate × $subs)" \
    "$(ratio "$del_eps" "$(awk -v a="$app_eps" -v s="$subs" 'BEGIN { print a * s }')")" "" ""
  row "SSE: events/s per subscriber / appended events/s during it (batches of $L_SSE_BATCH, one connection)" \
    "$(num "$(kv "$l" per_sub_eps)") / $(num "$app_eps") (append p50 $(ms "$(kv "$l" append_p50_us)") ms, p99 $(ms "$(kv "$l" append_p99_us)") ms)" "" "" "" ""
  row "SSE: subscribers that got every event once and in order" \
    "$(kv "$l" complete) of $subs ($(num "$(kv "$l" appended)") events each; duplicates $(kv "$l" dups), gaps $(kv "$l" gaps), closed $(kv "$l" closed), errors $(kv "$l" errors))" \
    "" "" "all" "$(l_verdict "$(kv "$l" complete)" eq "$subs")"
  row "SSE: append sent → frame received, p50 / p99 / max; last frame after the last append" \
    "$(ms "$(kv "$l" lat_p50_us)") / $(ms "$(kv "$l" lat_p99_us)") / $(ms "$(kv "$l" lat_max_us)") ms; $(kv "$l" lag_after_end_ms) ms" "" "" "" ""
  row "VmRSS max during SSE" "$(mib "$LS_RSS")" "" "" "" ""

  # 4
  local got b_eps
  got="$(kv "$LH_LINE" received)" b_eps="$(kv "$LB_LINE" eps)"
  row "**webhook delivery**, $(num "$L_WH_EVENTS") preloaded events, max_batch $L_WH_BATCH: events/s (PUT → last event at the receiver)" \
    "$(num "$LH_EPS") ($(num "$got") events in $LH_SECS s$([ "$got" = "$L_WH_EVENTS" ] || printf '; **stopped at the %s s limit**' "$L_T_WH"); $(kv "$LH_LINE" requests) POSTs, connections: $(kv "$LH_LINE" connections), duplicates $(kv "$LH_LINE" duplicates), gaps $(kv "$LH_LINE" gaps))" \
    "$(num "$b_eps") (the same receiver, the same $(kv "$LB_LINE" posts) bodies POSTed one after the other by live_load on one connection, $(kv "$LB_LINE" secs) s)" \
    "$(awk -v a="$LH_EPS" -v b="$b_eps" 'BEGIN { if (b > 0) printf "%.2g", a / b; else print "-" }')" "" ""
  row "peak RSS (VmHWM) at the end" "$(mib "$hwm")" "" "" "" ""
  target T6c "**RSS under every load of this suite** (largest VmHWM of each streamq: 1-4)" "$(mib "$SQ_HWM_MAX")" "" "" \
    "< 64 MiB" "$(kb_mib "$SQ_HWM_MAX")" lt 64

  l_report "$total"
}

l_report() {
  local total="$1" out
  mkdir -p "$BENCH_RESULTS"
  out="$BENCH_RESULTS/live-$BENCH_DATE.md"
  {
    report_header "streamq live-delivery benchmark" "load generators, receiver, streamq and PostgreSQL"
    printf -- '- streamq release build, --log-level info (one log line per request, to a file), default pool (16) and threads (16); a fresh streamq for each --notify setting in 1, one (--notify true) for 2-4\n'
    printf -- '- 1: %s, append.lua, %s s after %s s of warm-up; 2-4: bench/live_load.c (one poll loop; an appender thread for SSE); %s rounds in 2; BENCH_SCALE %s; whole run %s s\n\n' \
      "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" "$L_T_APPEND" "$L_WARM" "$L_ROUNDS" "${BENCH_SCALE:-1}" "$total"
    table_print
    printf '\nWhere the CPU and the commits went (2 cores = 2.00; commits are writing transactions; WAL fsyncs from pg_stat_wal are approximate):\n\n'
    diag_print
  } >"$out"
  printf '\n'
  cat "$out"
  say "written to $out"
}
