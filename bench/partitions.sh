# shellcheck shell=bash disable=SC2034,SC2153  # globals shared between bench/lib.sh and bench/partitions.sh
# The partitioning benchmark (issue 15); sourced by bench/run after bench/lib.sh. See bench/README.md.
# Two schemas of one database, one made with --partitioning time --partition-width 1h, one
# without, each seeded with the same PART_EVENTS events (1000 streams, created_at spread
# evenly over the PART_HOURS hours up to 2 h ago). p1: single appends, 64 connections,
# alternating rounds, on each. p2: the retention worker with --retention-max-age
# PART_AGE_HOURS h on each: the events past it go row by row on one side, by partition
# drops on the other; events/s from the worker's start until all of them are gone.

P_EVENTS="${BENCH_PART_EVENTS:-5000000}"
P_HOURS=8          # the seeded events' created_at span, ending 2 h ago
P_AGE_HOURS=8      # p2's --retention-max-age: about the oldest quarter goes
P_ROUNDS=2         # p1: alternating rounds per side
P_SECS="$(awk -v k="${BENCH_SCALE:-1}" 'BEGIN { v = int(10 * k + 0.5); print (v < 2 ? 2 : v) }')"
P_STREAMS=1000

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" "$@"; }

# seed SCHEMA: P_EVENTS events into SCHEMA's events (through its triggers, so a
# partitioned schema's event_ids are filled too), one streams row per stream. A
# partitioned schema first gets the hourly partitions the span needs (named as
# the retention worker names them). Positions are negative: below any real one.
seed() {
  local schema="$1" t0
  t0="$(psql_db -tAc "SELECT floor(extract(epoch FROM now() - interval '$((P_HOURS + 2)) hours'))::bigint")"
  if [ "$(psql_db -tAc "SELECT to_regclass('$schema.event_ids') IS NOT NULL")" = t ]; then
    psql_db -c "SET search_path TO $schema" -c "
      DO \$\$ BEGIN
        FOR h IN 0 .. $P_HOURS LOOP
          PERFORM 1 FROM pg_class WHERE relname = 'events_p' || (($t0 / 3600 + h) * 3600)
             AND relnamespace = '$schema'::regnamespace;
          IF NOT FOUND THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                           'events_p' || (($t0 / 3600 + h) * 3600), to_timestamp(($t0 / 3600 + h) * 3600),
                           to_timestamp(($t0 / 3600 + h + 1) * 3600));
          END IF;
        END LOOP;
      END \$\$"
  fi
  local chunk=1000000 from=0
  while [ "$from" -lt "$P_EVENTS" ]; do
    local to=$((from + chunk < P_EVENTS ? from + chunk : P_EVENTS))
    # Event i: stream i % 1000, offset i / 1000, created_at rising with i (so with each stream's offsets).
    psql_db -c "SET search_path TO $schema" -c "
      INSERT INTO events (global_position, stream, stream_offset, event_id, event_type, data, created_at)
      SELECT i - $P_EVENTS - 1, 'seed-' || (i % $P_STREAMS), i / $P_STREAMS, gen_random_uuid(), 'Seed',
             '{\"order\": 1, \"sku\": \"abc-123\", \"qty\": 1}', to_timestamp($t0 + i * ($P_HOURS * 3600.0 / $P_EVENTS))
        FROM generate_series($from, $((to - 1))) AS i"
    from="$to"
  done
  psql_db -c "SET search_path TO $schema" -c "
    INSERT INTO streams (name, version, last_event_at)
    SELECT 'seed-' || s, ($P_EVENTS - 1 - s) / $P_STREAMS, now() FROM generate_series(0, $P_STREAMS - 1) AS s" \
    -c "VACUUM ANALYZE"
}

# Events gone from the seeded streams of SCHEMA (what first_offset moved past).
trimmed_in() { psql_db -tAc "SELECT coalesce(sum(first_offset), 0) FROM $1.streams WHERE name LIKE 'seed-%'"; }
# Seeded events past retention: what p2 waits to see gone.
due_in() {
  psql_db -tAc "SELECT count(*) FROM $1.events WHERE stream LIKE 'seed-%'
                  AND created_at < now() - interval '$P_AGE_HOURS hours'"
}

# p2 on one side: starts the worker, polls until DUE events are gone; sets T_EPS T_SECS T_GONE.
trim_run() {
  local schema="$1" due="$2" t0 t1 gone=0 i
  shift 2
  streamq_start --schema "$schema" --retention-max-age $((P_AGE_HOURS * 3600)) --retention-interval-ms 200 "$@"
  t0="$EPOCHREALTIME"
  for i in $(seq 1 3000); do # 10 minutes at most
    gone="$(trimmed_in "$schema")"
    [ "$gone" -ge "$due" ] && break
    sleep 0.2
  done
  t1="$EPOCHREALTIME"
  streamq_stop
  T_GONE="$gone"
  T_SECS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  T_EPS="$(awk -v n="$gone" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
  say "  $schema: $T_GONE events gone in $T_SECS s: $T_EPS events/s"
}

run_partitions() {
  bench_setup
  local started="$EPOCHREALTIME" side
  TABLE=()
  for side in part plain; do
    local flags=()
    [ "$side" = part ] && flags=(--partitioning time --partition-width 1h)
    streamq_start --schema "bench_$side" "${flags[@]}"
    streamq_stop
    say "seeding $(num "$P_EVENTS") events into bench_$side"
    local t0="$EPOCHREALTIME"
    seed "bench_$side"
    say "  seeded in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
  done
  local parts
  parts="$(psql_db -tAc "SELECT count(*) FROM pg_inherits WHERE inhparent = 'bench_part.events'::regclass")"

  say "p1. single appends, 64 conns, $P_ROUNDS alternating rounds of ${P_SECS}s, partitioned vs not"
  streamq_start --schema bench_part --partitioning time --partition-width 1h
  local part_url="$SQ_URL" part_pid="$SQ_PID"
  SQ_PID=""
  streamq_start --schema bench_plain
  local plain_url="$SQ_URL" round
  local -A req us bad
  req[part]=0 us[part]=0 req[plain]=0 us[plain]=0 bad[part]=0 bad[plain]=0
  for round in $(seq 1 "$P_ROUNDS"); do
    for side in plain part; do
      local url="$plain_url"
      [ "$side" = part ] && url="$part_url"
      wait_quiet
      diag_begin
      wrk_run "part-$side-$round" 64 "$P_SECS" append.lua "$url" -- 1 "$P_STREAMS" p1-
      diag_end "p1. single appends, 64 conns, $side, round $round"
      req[$side]=$((req[$side] + W_REQ)) us[$side]=$((us[$side] + W_US)) bad[$side]=$((bad[$side] + W_BAD))
    done
  done
  streamq_stop
  SQ_PID="$part_pid"
  streamq_stop
  local on off
  on="$(awk -v r="${req[part]}" -v d="${us[part]}" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  off="$(awk -v r="${req[plain]}" -v d="${us[plain]}" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  row "[P1] single appends/s, 64 conns, on $(num "$P_EVENTS") seeded events" \
    "$(num "$on") (--partitioning time, 1 h partitions: $parts tables; ${bad[part]} failed)" \
    "$(num "$off") (--partitioning none; ${bad[plain]} failed)" "$(ratio "$on" "$off")" "" ""

  say "p2. retention --retention-max-age ${P_AGE_HOURS}h: row deletes vs partition drops"
  local due_plain due_part
  due_plain="$(due_in bench_plain)"
  due_part="$(due_in bench_part)"
  say "  due: $due_plain events (none), $due_part (time)"
  trim_run bench_plain "$due_plain"
  local plain_eps="$T_EPS" plain_secs="$T_SECS" plain_gone="$T_GONE"
  # Partitioned, only whole hours go: what the drops remove is what is due there.
  local due_drop
  due_drop="$(psql_db -tAc "SELECT count(*) FROM bench_part.events WHERE stream LIKE 'seed-%'
                              AND created_at < to_timestamp(floor(extract(epoch FROM now() - interval '$P_AGE_HOURS hours') / 3600) * 3600)")"
  trim_run bench_part "$due_drop" --partitioning time --partition-width 1h
  local part_eps="$T_EPS" part_secs="$T_SECS" part_gone="$T_GONE"
  row "[P2] retention: events removed/s" \
    "$(num "$part_eps") (partition drops: $(num "$part_gone") events in $part_secs s)" \
    "$(num "$plain_eps") (row deletes: $(num "$plain_gone") events in $plain_secs s)" "$(ratio "$part_eps" "$plain_eps")" "" ""

  local total
  total="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
  local out
  mkdir -p "$BENCH_RESULTS"
  out="$BENCH_RESULTS/partitions-$BENCH_DATE.md"
  {
    report_header "streamq partitioning benchmark" "load generator, streamq and PostgreSQL"
    printf -- '- streamq release build, --log-level info; %s seeded events over %s streams, created_at over %s h; whole run %s s\n\n' \
      "$(num "$P_EVENTS")" "$P_STREAMS" "$P_HOURS" "$total"
    table_print
    printf '\nWhere the CPU and the commits went (2 cores = 2.00):\n\n'
    diag_print
  } >"$out"
  printf '\n'
  cat "$out"
  say "written to $out"
}
