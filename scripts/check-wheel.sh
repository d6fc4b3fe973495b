#!/usr/bin/env bash
# Build assetmap's wheel, install it (not editable) into a fresh virtual environment and run it
# from a folder outside the repository: `assetmap info`, a printed ward of the demo area, and
# `assetmap serve` answering its page and a map script. The installed demo area is made read-only
# and must be left exactly as installed. Exits non-zero, saying what failed, on any failure.
#
#   bash scripts/check-wheel.sh        (or `make wheel-check`; PY=python3.12 to choose the Python)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PY:-python3}"
START_TIMEOUT_S="${START_TIMEOUT_S:-120}"
WARD="E05999901" # a ward of the demo area

started=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/assetmap-wheel.XXXXXX")"
server_pid=""

say() { echo "check-wheel: $*"; }
fail() {
    echo "check-wheel: FAILED: $*" >&2
    exit 1
}

stop_server() {
    [ -n "$server_pid" ] || return 0
    # `assetmap serve` runs Streamlit as a child: stop the whole process group it leads.
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 -- "-$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

cleanup() {
    stop_server
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

command -v git >/dev/null || fail "git is needed to list the repository's files"
command -v curl >/dev/null || fail "curl is needed to ask the server (apt-get install curl)"

# -- build from a clean copy of the sources (no stale build/ folder can leak into the wheel) -----
say "copying the repository's files to $work/src"
mkdir -p "$work/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -C "$work/src" -xf - || fail "could not copy the sources"

say "creating a fresh virtual environment with $PY"
"$PY" -m venv "$work/venv" || fail "$PY -m venv failed"
venv_py="$work/venv/bin/python"
"$venv_py" -m pip install -q --upgrade pip || fail "could not upgrade pip in the new environment"

say "building the wheel"
"$venv_py" -m pip wheel -q --no-deps -w "$work/dist" "$work/src" >"$work/build.log" 2>&1 ||
    fail "the wheel did not build:
$(tail -n 30 "$work/build.log")"
wheel="$(ls "$work"/dist/assetmap-*.whl)"
say "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KB)"
"$venv_py" -m zipfile -l "$wheel" >"$work/wheel-files.txt"
for needed in assetmap/datasets/eastbrook/area.toml assetmap/ui/webapp/app.py assetmap/ui/webapp/static/leaflet/leaflet.js \
    assetmap/ui/webapp/.streamlit/config.toml assetmap/taxonomy.toml assetmap/osm_tags.toml \
    assetmap/store/migrations/sqlite/0001_initial.sql assetmap/ui/icon.png; do
    grep -q "^$needed " "$work/wheel-files.txt" || fail "the wheel lacks $needed"
done
# The demo generator is a tool of the repository, not of the installed package.
if grep -q "^assetmap/demo.py " "$work/wheel-files.txt"; then fail "the wheel ships assetmap/demo.py"; fi

say "installing the wheel and its dependencies"
installing=$SECONDS
"$venv_py" -m pip install -q "$wheel" >"$work/install.log" 2>&1 || fail "pip could not install the wheel:
$(tail -n 30 "$work/install.log")"
say "  installed in $((SECONDS - installing)) s"

# -- run it from elsewhere, with nothing of the repository or the user's own settings in reach ---
run="$work/run"
mkdir -p "$run" "$work/home"
cd "$run"
unset PYTHONPATH ASSETMAP_AREA ASSETMAP_REGISTER_URL ASSETMAP_AREAS_DIR ASSETMAP_CACHE_DIR ASSETMAP_PUBLIC_URL
export HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" XDG_DATA_HOME="$work/home/.local/share"
export PATH="$work/venv/bin:$PATH"

site="$("$venv_py" -c 'import assetmap, pathlib; print(pathlib.Path(assetmap.__file__).parent)')"
case "$site" in
"$work/venv/"*) ;;
*) fail "assetmap was imported from $site, not from the new environment" ;;
esac
demo="$("$venv_py" -c 'from assetmap.datasets import get_path; print(get_path())')"
[ "$demo" = "$site/datasets/eastbrook" ] || fail "the demo area is at $demo, not in the installed package"
# Installed packages may be read-only: so is the demo here, and nothing may be written into it.
chmod -R a-w "$site/datasets"
snapshot() { (cd "$site" && find . -name __pycache__ -prune -o -printf '%p %s %T@\n' | sort); }
before="$(snapshot)"

say "assetmap info"
assetmap info >"$work/info.txt" 2>&1 || fail "assetmap info failed:
$(cat "$work/info.txt")"
grep -q "Eastbrook" "$work/info.txt" || fail "assetmap info did not describe the demo area:
$(cat "$work/info.txt")"

say "assetmap print --ward $WARD"
assetmap print --ward "$WARD" --out "$run/ward.pdf" >"$work/print.txt" 2>&1 || fail "assetmap print failed:
$(cat "$work/print.txt")"
if command -v pdfinfo >/dev/null; then
    pages="$(pdfinfo "$run/ward.pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')"
else
    "$venv_py" -m pip install -q pypdf >/dev/null 2>&1 || fail "neither pdfinfo nor pypdf is available to read the PDF"
    pages="$("$venv_py" -c 'import sys, pypdf; print(len(pypdf.PdfReader(sys.argv[1]).pages))' "$run/ward.pdf" 2>/dev/null)"
fi
[ "${pages:-0}" -gt 0 ] 2>/dev/null || fail "assetmap print did not write a PDF with pages ($run/ward.pdf)"
say "  a PDF of $pages pages"

port="$("$venv_py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
say "assetmap serve --port $port"
setsid assetmap serve --port "$port" </dev/null >"$work/serve.log" 2>&1 &
server_pid=$!
asked=$SECONDS
deadline=$((SECONDS + START_TIMEOUT_S))
until curl -fsS -o /dev/null --max-time 2 "$base/_stcore/health" 2>/dev/null; do
    kill -0 "$server_pid" 2>/dev/null || fail "assetmap serve exited before it answered:
$(tail -n 40 "$work/serve.log")"
    [ "$SECONDS" -lt "$deadline" ] || fail "assetmap serve did not answer within ${START_TIMEOUT_S} s:
$(tail -n 40 "$work/serve.log")"
    sleep 0.5
done
say "  answering after $((SECONDS - asked)) s"

curl -fsS --max-time 30 -o "$work/index.html" "$base/" || fail "GET / did not answer 200"
grep -qi "<html" "$work/index.html" || fail "GET / did not return the app's page"
# The scripts every map loads, as the map asks for them (app/static/...).
scripts="$("$venv_py" -c 'from assetmap.render import webmap
print(" ".join(lib.path for lib in webmap.MAP_JS + webmap.CLUSTER_JS))')"
for script in $scripts; do
    code="$(curl -sS --max-time 30 -o "$work/script.js" -w '%{http_code}' "$base/app/static/$script")" ||
        fail "GET /app/static/$script failed"
    [ "$code" = 200 ] || fail "GET /app/static/$script answered $code, not 200"
    [ "$(wc -c <"$work/script.js")" -gt 500 ] || fail "/app/static/$script is nearly empty"
    say "  /app/static/$script: 200, $(wc -c <"$work/script.js") bytes"
done
stop_server

after="$(snapshot)"
if [ "$before" != "$after" ]; then
    fail "files inside the installed package changed:
$(diff <(echo "$before") <(echo "$after") | head -n 20)"
fi
say "nothing was written inside the installed package"

say "passed in $((SECONDS - started)) s"
