#!/usr/bin/env bash
# Loads the demo catalog into the data dir (once) and serves it.
set -euo pipefail
bin=${1:-bin/tessera} data=${2:-data} addr=${3:-127.0.0.1:8080}
if [ ! -f "$data/catalog.db" ]; then
  echo "demo: loading the bundled fixtures and 5000 synthetic items into $data" >&2
  mkdir -p "$data"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  go run ./bench/gen -n 5000 -seed 1 > "$tmp/synthetic.ndjson"
  "$bin" load --data-dir "$data" testdata/demo "$tmp/synthetic.ndjson"
fi
exec "$bin" serve --data-dir "$data" --addr "$addr"
