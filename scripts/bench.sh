#!/usr/bin/env bash
# Runs the catalog benchmark harness; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench/catalog "$@"
