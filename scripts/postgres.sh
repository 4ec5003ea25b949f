#!/usr/bin/env bash
# Makes a PostgreSQL + PostGIS server available for tests and benchmarks and
# prints the line to use it:
#
#   eval "$(scripts/postgres.sh)"   # sets TESSERA_TEST_POSTGRES=postgres://...
#
# When a server already answers at $TESSERA_TEST_POSTGRES nothing is done.
# Otherwise (Debian) the packages are installed when missing (as root), a
# throw-away cluster is created in $TESSERA_PG_DIR (default
# ${TMPDIR:-/tmp}/tessera-postgres-PORT) and started on 127.0.0.1:PORT
# (TESSERA_PG_PORT, default 55432), with:
#   - role tessera (password tessera, CREATEDB, not a superuser),
#   - database tessera owned by it, with the postgis extension,
#   - template database tessera_template with postgis, from which tests
#     create a fresh database each,
#   - shared memory in huge pages when run as root (vm.nr_hugepages is
#     raised to what the cluster needs).
# Running it again while the server runs takes a few milliseconds.
# `scripts/postgres.sh stop` stops the cluster.
# Progress goes to stderr; only the export line goes to stdout.
set -euo pipefail

port=${TESSERA_PG_PORT:-55432}
dir=${TESSERA_PG_DIR:-${TMPDIR:-/tmp}/tessera-postgres-$port}
dsn="postgres://tessera:tessera@127.0.0.1:$port/tessera?sslmode=disable"
log() { echo "postgres.sh: $*" >&2; }

pgbin() {
  local b
  for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$b/initdb" ] && { echo "$b"; return; }
  done
}

# as_owner runs a command as the cluster's owner: postgres when we are root
# (initdb and the server refuse to run as root), else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

answers() { # answers DSN: a server accepts connections there
  local b; b=$(pgbin)
  if [ -n "$b" ]; then "$b/pg_isready" -q -d "$1" -t 2 >/dev/null 2>&1; else return 1; fi
}

if [ "${1:-}" = stop ]; then
  b=$(pgbin)
  [ -n "$b" ] && [ -f "$dir/PG_VERSION" ] && as_owner "$b/pg_ctl" -D "$dir" -m fast stop >&2 || true
  exit 0
fi

if [ -n "${TESSERA_TEST_POSTGRES:-}" ] && answers "$TESSERA_TEST_POSTGRES"; then
  echo "export TESSERA_TEST_POSTGRES='$TESSERA_TEST_POSTGRES'"
  exit 0
fi
if answers "$dsn"; then
  echo "export TESSERA_TEST_POSTGRES='$dsn'"
  exit 0
fi

# Packages.
b=$(pgbin)
ver=${b#/usr/lib/postgresql/}; ver=${ver%/bin}
if [ -z "$b" ] || [ ! -f "/usr/share/postgresql/$ver/extension/postgis.control" ]; then
  [ -n "$b" ] || ver=15
  pkgs=(postgresql "postgresql-$ver-postgis-3")
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL $ver with PostGIS is missing; install it: sudo apt-get install ${pkgs[*]}"
    exit 1
  fi
  log "installing ${pkgs[*]}"
  if ! apt-cache show "postgresql-$ver-postgis-3" >/dev/null 2>&1; then apt-get update -qq; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  b=$(pgbin)
fi

# Cluster.
if [ ! -f "$dir/PG_VERSION" ]; then
  log "creating a cluster in $dir"
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$b/initdb" -D "$dir" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  # Shared buffers big enough for the indexes of a 1M-item catalog
  # (~250 MB) on machines with the memory for it.
  shared_buffers=256MB
  if [ "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)" -ge 16000000 ]; then
    shared_buffers=1GB
  fi
  cat >>"$dir/postgresql.conf" <<EOF
# tessera test cluster (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = $shared_buffers
maintenance_work_mem = 256MB
max_wal_size = 4GB
EOF
fi
if ! as_owner "$b/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  # Huge pages for shared memory (huge_pages = try, the default, uses them
  # when the kernel has enough). With 4 KB pages every new backend
  # page-faults once on each shared buffer it touches: a bulk load's
  # backend spent about a quarter of its CPU on those faults
  # (docs/benchmarks.md). Only root can reserve them; otherwise the server
  # runs on normal pages.
  if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
    need=$(as_owner "$b/postgres" -D "$dir" -C shared_memory_size_in_huge_pages 2>/dev/null || echo 0)
    free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
    if [ "${need:-0}" -gt "${free:-0}" ] 2>/dev/null; then
      echo $(($(cat /proc/sys/vm/nr_hugepages) + need - free)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
      log "huge pages: $(cat /proc/sys/vm/nr_hugepages) reserved ($need needed)"
    fi
  fi
  log "starting PostgreSQL on 127.0.0.1:$port"
  as_owner "$b/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
fi

# Role, database and template (idempotent).
psql_su() { as_owner "$b/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"; }
psql_su -d postgres >/dev/null <<'EOF'
SELECT 'CREATE ROLE tessera LOGIN CREATEDB PASSWORD ''tessera'''
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tessera') \gexec
SELECT 'CREATE DATABASE tessera OWNER tessera'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tessera') \gexec
SELECT 'CREATE DATABASE tessera_template OWNER tessera'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tessera_template') \gexec
-- Tests drop their databases WITH (FORCE), which must also stop the
-- autovacuum worker a big write has started there.
GRANT pg_signal_backend TO tessera;
EOF
for db in tessera tessera_template; do
  psql_su -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null 2>&1
done
psql_su -d postgres -c "ALTER DATABASE tessera_template IS_TEMPLATE true" >/dev/null

answers "$dsn" || { log "the server does not answer at $dsn (see $dir/server.log)"; exit 1; }
log "ready: $dsn"
echo "export TESSERA_TEST_POSTGRES='$dsn'"
