# Shared by scripts/run, scripts/test and bench/run: packages, build, and a
# private PostgreSQL cluster on a unix socket. Source it; do not run it.

STREAMQ_PACKAGES="build-essential meson ninja-build pkg-config libmicrohttpd-dev libpq-dev libcjson-dev check libcurl4-openssl-dev libssl-dev zlib1g-dev postgresql postgresql-contrib clang-format prometheus nginx jq"

# Installs whichever of the packages named (default: STREAMQ_PACKAGES) are missing.
ensure_packages() {
  local want="${*:-$STREAMQ_PACKAGES}" missing=""
  for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages:$missing (run as root, or install them)" >&2
    return 1
  fi
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${STREAMQ_APT_UPDATED:-}" ]; then
    apt-get update -q >&2
    export STREAMQ_APT_UPDATED=1
  fi
  apt-get install -y -q --no-install-recommends $missing >&2
}

pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Runs a PostgreSQL server command as the owner of the cluster (initdb refuses root).
as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_cluster_start DIR PORT: creates (first time) and starts a cluster whose data,
# socket and log live in DIR; listens only on the unix socket DIR/socket. It can
# feed a streaming replica (wal_level replica; initdb's pg_hba.conf lets local
# connections replicate), see pg_standby_create.
pg_cluster_start() {
  local dir="$1" port="$2" bin
  bin="$(pg_bindir)"
  [ -n "$bin" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  mkdir -p "$dir/socket"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; return 1; }
  fi
  as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-k $dir/socket -p $port -c listen_addresses='' -c max_connections=200 -c wal_level=replica -c max_wal_senders=4" \
    start >/dev/null ||
    { tail -n 20 "$dir/postgres.log" >&2; return 1; }
}

# pg_standby_create PRIMARY_DIR PRIMARY_PORT DIR: a hot standby of the running
# cluster in PRIMARY_DIR (pg_basebackup -R: it streams from the primary's socket),
# its data in DIR/data; start and stop it with pg_cluster_start/pg_cluster_stop DIR PORT.
pg_standby_create() {
  local primary="$1" pport="$2" dir="$3"
  mkdir -p "$dir/socket"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  as_pg_owner "$(pg_bindir)/pg_basebackup" -h "$primary/socket" -p "$pport" -U postgres -D "$dir/data" \
    -R -X stream -c fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
}

pg_cluster_stop() {
  local dir="$1"
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_pg_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_create_db DIR PORT NAME: creates database NAME unless it exists.
pg_create_db() {
  local dir="$1" port="$2" name="$3"
  if ! psql -h "$dir/socket" -p "$port" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql -h "$dir/socket" -p "$port" -U postgres -d postgres -q -c "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# build DIR [meson options...]: configures once, then builds.
build() {
  local dir="$1"
  shift
  local log
  log="$(mktemp)"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
  fi
  ninja -C "$dir" >"$log" 2>&1 || { grep -v '^\[' "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
}

# npm_tools DIR: installs the npm packages of DIR exactly as DIR/package-lock.json
# pins them, unless that is already done; concurrent callers wait for one install.
npm_tools() {
  local dir="$1"
  command -v npm >/dev/null || ensure_packages nodejs npm
  (
    flock 9
    if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
        [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  ) 9>"$dir/.install.lock"
}
