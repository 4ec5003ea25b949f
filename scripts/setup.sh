#!/usr/bin/env bash
# Installs the system packages tessera uses when they are missing, on Debian
# machines where we are root. Without GDAL tessera still builds and serves
# the catalog; the tile server needs it.
set -euo pipefail
need=()
pkg-config --exists gdal 2>/dev/null || need+=(libgdal-dev)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "setup: ${need[*]} missing; tiles are disabled (install: sudo apt-get install ${need[*]})" >&2
fi
