#!/usr/bin/env bash
# Runs every curl example of README.md's ```sh blocks, in order, against the
# real binary on a fresh schema of the test database (PG* variables), with
# localhost:8080 replaced by the instance's address.
#
# - A command is one line of a ```sh block (lines ending in "\" continue it,
#   and so does a quoted string left open). Commands that start with `curl`,
#   or assign a variable what a curl answered, are the examples; other
#   assignments (`ID=$(jq … lease.json)`) run too, so that later examples can
#   use what earlier ones answered. Other lines (scripts/run, streamq token, …) are
#   not HTTP examples and are left alone.
# - Each example must answer 2xx, unless its trailing comment begins with a
#   status (`# 409 offset_regression …`): then it must answer exactly that.
#   Every curl of a line (`curl …; curl …`) is held to it.
# - An example whose trailing comment begins with "(not run:" is skipped; the
#   comment says why (it needs a setup this run does not make).
# - A Server-Sent Events example (`curl -N`) never ends by itself: it is cut
#   after 2 s and must have answered its status by then.
#
# Usage: examples.sh STREAMQ_BINARY README.md
set -euo pipefail
bin="$(realpath "$1")" readme="$(realpath "$2")"

work="$(mktemp -d /tmp/streamq-readme.XXXXXX)"
schema="readme_$$_${RANDOM}"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  psql -qAtc "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --listen 127.0.0.1:0 --schema "$schema" --port-file "$work/port" --log-level warn >"$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -s "$work/port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/service.log" >&2; echo "readme: streamq exited at start-up" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/port" ] || { echo "readme: streamq did not start listening" >&2; exit 1; }
base="127.0.0.1:$(cat "$work/port")"

# The commands, one per line, continuations joined.
awk '
  /^```/ { if (inside) { inside = 0; next } if ($0 == "```sh") { inside = 1; next } }
  !inside { next }
  { line = held $0; held = "" }
  /\\$/ { sub(/\\$/, "", line); held = line; next }
  { print line }' "$readme" >"$work/commands"

statuses="$work/statuses"
# Every curl reports its status on stderr after a marker; the body goes where the
# example sends it. With STREAMQ_EXCHANGES_DIR set (scripts/test), each answer is
# also logged there as the integration harness logs its own
# (tests/integration/exchange_log.h), for scripts/check-contract.
curl() {
  local max=70 rc=0
  case " $* " in *" -N "*) max=2 ;; esac
  command curl --max-time "$max" -w '%{stderr}readme-status %{http_code}\n' -D "$work/head" -o "$work/body" "$@" \
    2>>"$statuses" || rc=$?
  cat "$work/body"
  [ -z "${STREAMQ_EXCHANGES_DIR:-}" ] || log_exchange "$rc" "$@"
  return "$rc"
}

# log_exchange CURL_EXIT ARGS...: one line of the exchange log for the answer in
# $work/head and $work/body (an -i example has the head in its body too: only
# its status and headers are checked then).
log_exchange() {
  local rc="$1" method="" target="" accept="" data=0 include=0 arg prev=""
  shift
  for arg in "$@"; do
    case "$prev" in
      -X) method="$arg" ;;
      -H) [[ "${arg,,}" == accept:* ]] && accept="${arg#*: }" ;;
    esac
    case "$arg" in
      -X?*) method="${arg#-X}" ;;
      -d | --data*) data=1 ;;
      -si | -i | --include) include=1 ;;
      *"$base"*) target="/${arg#*"$base"/}" ;;
    esac
    prev="$arg"
  done
  [ -n "$method" ] || { [ "$data" = 1 ] && method=POST || method=GET; }
  [ -s "$work/head" ] || return 0
  local status complete=true
  status="$(awk 'NR == 1 { print $2 }' "$work/head")"
  { [ "$rc" = 0 ] && [ "$include" = 0 ]; } || complete=false
  jq -cn --arg method "$method" --arg target "$target" --arg accept "$accept" --argjson status "$status" \
    --argjson complete "$complete" --rawfile head "$work/head" --rawfile body "$work/body" '
      {client: "readme", method: $method, target: $target, status: $status,
       headers: ($head | split("\r\n") | map(select(test("^[^ :]+:")) | capture("^(?<k>[^:]+):[ \t]*(?<v>.*)$"))
                 | map({(.k | ascii_downcase): .v}) | add // {}),
       body: $body, length: ($body | utf8bytelength), complete: $complete}
      + (if $accept == "" then {} else {accept: $accept} end)' >>"$STREAMQ_EXCHANGES_DIR/readme-examples-$$.ndjson"
}

cd "$work"
set +u # the examples use variables that earlier examples set
ran=0 skipped=0 requests=0 failed=0
pending=""
while IFS= read -r part; do
  # A quoted string may span lines: gather them until the command parses.
  line="${pending:+$pending$'\n'}$part"
  if ! bash -n <<<"$line" 2>/dev/null; then
    pending="$line"
    continue
  fi
  pending=""
  cmd="${line%%  #*}" comment=""
  [ "$cmd" != "$line" ] && comment="${line#*  #}" && comment="${comment# }"
  cmd="$(sed -e 's/[[:space:]]*$//' <<<"$cmd")"
  case "$cmd" in
    curl\ * | [A-Z_]*=*curl\ *) ;; # an example (an assignment of its answer too)
    [A-Z_]*=*)
      eval "$cmd" </dev/null || { echo "readme: '$cmd' failed" >&2; failed=$((failed + 1)); }
      continue
      ;;
    *) continue ;;
  esac
  if [[ "$comment" == "(not run:"* ]]; then
    skipped=$((skipped + 1))
    continue
  fi
  want=""
  [[ "$comment" =~ ^([1-5][0-9][0-9])([^0-9]|$) ]] && want="${BASH_REMATCH[1]}"
  : >"$statuses"
  rc=0
  eval "${cmd//localhost:8080/$base}" >"$work/out" </dev/null || rc=$?
  ran=$((ran + 1))
  codes="$(sed -n 's/^readme-status //p' "$statuses")"
  ok=1
  [ -n "$codes" ] || ok=0
  for code in $codes; do
    requests=$((requests + 1))
    if [ -n "$want" ]; then
      [ "$code" = "$want" ] || ok=0
    else
      [[ "$code" == 2?? ]] || ok=0
    fi
  done
  # curl itself must have succeeded, but for an SSE example cut at its time limit (28).
  if [ "$rc" != 0 ] && ! { [ "$rc" = 28 ] && [[ " $cmd " == *" -N "* ]]; }; then ok=0; fi
  if [ "$ok" = 0 ]; then
    failed=$((failed + 1))
    echo "readme: FAILED (want ${want:-2xx}, got ${codes:-no answer}, curl exit $rc): $cmd" >&2
    grep -v '^readme-status ' "$statuses" | head -n 5 >&2 || true
    head -c 600 "$work/out" >&2 || true
    echo >&2
  fi
done <"$work/commands"

echo "readme: $ran curl examples run ($requests requests), $skipped marked not run, $failed failed"
[ "$ran" -gt 0 ] && [ "$failed" = 0 ]
