#!/usr/bin/env bash
# System packages the tests drive for real: Debian's Chromium (browser tests),
# poppler-utils (PDF pages to images), and PostgreSQL with PostGIS (the register store
# tests start their own server). The app serves its maps' scripts itself (assetmap/ui/webapp/static/).
# Installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null || need+=(postgresql-15-postgis-3)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
