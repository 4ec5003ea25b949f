#!/usr/bin/env bash
# Loads the demo catalog into the data dir (once) and serves it.
set -euo pipefail
bin=${1:-bin/tessera} data=${2:-data} addr=${3:-127.0.0.1:8080}
if [ ! -f "$data/catalog.db" ]; then
  echo "demo: loading the bundled fixtures and 5000 synthetic items into $data" >&2
  mkdir -p "$data"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  go run ./bench/gen -n 5000 -seed 1 > "$tmp/synthetic.ndjson"
  files=(testdata/demo "$tmp/synthetic.ndjson")
  if command -v gdal_translate >/dev/null 2>&1; then
    echo "demo: generating terrain COGs for the tile server" >&2
    go run ./bench/gen -rasters "$data/rasters" > "$tmp/rasters.ndjson"
    for f in "$data"/rasters/*.raw.tif; do
      gdal_translate -q -a_srs EPSG:4326 -of COG -co COMPRESS=DEFLATE "$f" "${f%.raw.tif}.tif" && rm "$f"
    done
    files+=("$tmp/rasters.ndjson")
  fi
  "$bin" load --data-dir "$data" "${files[@]}"
fi
if [ -d "$data/rasters" ]; then
  echo "demo: map of the terrain COGs: http://$addr/collections/demo-terrain/items/terrain_0_0/WebMercatorQuad/map.html?assets=visual" >&2
fi
exec "$bin" serve --data-dir "$data" --addr "$addr"
