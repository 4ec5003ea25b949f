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
go vet -tags "$tags" ./...
go test -tags "$tags" -count=1 -timeout 20m ./...
