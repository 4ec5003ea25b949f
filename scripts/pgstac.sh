#!/usr/bin/env bash
# Installs pgstac into its own database of the scripts/postgres.sh cluster,
# for the side-by-side benchmark only (docs/benchmarks.md, "pgstac side by
# side"), and prints the line to use it:
#
#   eval "$(scripts/postgres.sh)"
#   eval "$(scripts/pgstac.sh bench/out/pgstac/pgstac--0.9.11.sql pgstac_bench_100000)"
#   # sets TESSERA_PGSTAC=postgres://.../pgstac_bench_100000
#
# SQL is pgstac's single-file install (src/pgstac/pgstac.sql, or
# src/pgstac/migrations/pgstac--X.Y.Z.sql, of a stac-utils/pgstac v0.9.x
# release); keep it out of the repository (bench/out is ignored). pgstac
# creates roles and the postgis, btree_gist and unaccent extensions, so it
# is installed as the cluster's superuser (local socket); the tessera role is
# then made a member of pgstac_admin (owner of pgstac's tables: loads,
# ANALYZE) and pgstac_ingest. An existing database with pgstac is kept.
set -euo pipefail

sql=${1:?usage: scripts/pgstac.sh PGSTAC_SQL DBNAME}
db=${2:?usage: scripts/pgstac.sh PGSTAC_SQL DBNAME}
port=${TESSERA_PG_PORT:-55432}
dir=${TESSERA_PG_DIR:-${TMPDIR:-/tmp}/tessera-postgres-$port}
psql_su() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"; }

psql_su -d postgres >/dev/null <<EOF
SELECT 'CREATE DATABASE $db OWNER tessera'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \gexec
EOF
if [ -z "$(psql_su -d "$db" -Atc "SELECT 1 FROM pg_namespace WHERE nspname = 'pgstac'")" ]; then
  echo "pgstac.sh: installing $sql into $db" >&2
  psql_su -d "$db" -f "$sql" >/dev/null
fi
psql_su -d "$db" -c 'GRANT pgstac_admin, pgstac_ingest TO tessera' >/dev/null
echo "pgstac.sh: $db has pgstac $(psql_su -d "$db" -Atc 'SELECT pgstac.get_version()')" >&2
echo "export TESSERA_PGSTAC='postgres://tessera:tessera@127.0.0.1:$port/$db?sslmode=disable'"
