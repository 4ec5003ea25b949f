#!/usr/bin/env bash
# Runs every test. With GDAL installed (pkg-config gdal) the tile tests run
# too; in CI (CI=true) they must, and so must every test that needs a
# service or tool.
set -euo pipefail
cd "$(dirname "$0")/.."
tags=""
if pkg-config --exists gdal 2>/dev/null; then tags=gdal; fi
if [ "${CI:-}" = true ] && [ -z "$tags" ]; then
  echo "test: GDAL (libgdal-dev) is required in CI" >&2; exit 1
fi
# The PostgreSQL store's tests need a PostgreSQL+PostGIS server: use the one
# at $TESSERA_TEST_POSTGRES, or start a local one (see scripts/postgres.sh).
if pg=$(scripts/postgres.sh); then
  eval "$pg"
elif [ "${CI:-}" = true ]; then
  echo "test: could not start PostgreSQL (scripts/postgres.sh)" >&2; exit 1
else
  echo "test: no PostgreSQL; the PostgreSQL store tests are skipped" >&2
fi
unformatted=$(go list -f '{{.Dir}}' ./... | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "test: not gofmt-formatted (run gofmt -w):" >&2; echo "$unformatted" >&2; exit 1
fi
go vet -tags "$tags" ./...
go test -tags "$tags" -count=1 -timeout 20m ./...
# The GDAL handle pool, warper reuse, the start-up warm-up and the mosaic's
# concurrent reads under the race detector (many goroutines on one source).
if [ -n "$tags" ]; then
  go test -race -tags "$tags" -count=1 -run 'TestConcurrentTiles|TestMosaic$|TestWarperReuse|TestWarmUp' ./internal/tiles/ ./internal/raster/gdal/
fi
