#!/usr/bin/env bash
# HTTP figures of issue 3 (BENCHMARKS.md): a resident fetching a freshly signed code, and
# the verification endpoint, under wrk on loopback, with the raw Ed25519 rates and a
# trivial endpoint measured in the same run as baselines.
#
# Usage: scripts/bench-http.sh [SECONDS] [CONNECTIONS]
#        HEALTHCODE_DATABASE_URL=postgres://… scripts/bench-http.sh   (the same over PostgreSQL:
#        give it an empty database or schema, e.g. `?options=-c%20search_path%3Dhc_bench`)
# Needs: wrk (Debian package), a release build (cargo build --release -p healthcode); psql
# for PostgreSQL. Prints each run's server CPU per request, the figure issue 16 compares.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
connections="${2:-64}"
bin="${HEALTHCODE_BIN:-target/release/healthcode}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || cargo build --release -p healthcode

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=18080
url="${HEALTHCODE_DATABASE_URL:-}"
if [ -n "$url" ]; then store=(--database-url "$url"); else store=(--data-dir "$work/data"); fi
"$bin" serve --demo --listen "127.0.0.1:$port" "${store[@]}" \
  --signing-keys-file "$work/keys/signing.json" --log-key-file "$work/keys/log.key" \
  --pseudonym-key-file "$work/keys/pseudonym.key" --vault-key-file "$work/keys/vault.key" \
  --scheduler-seconds 3600 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
until grep -q "serving on" "$work/serve.out" 2>/dev/null; do sleep 0.2; done
base="http://127.0.0.1:$port"

# 1,000 residents of the demo region, in random order, each with a resident key: the demo
# pages' sign-in gives one (the code routes take only the person's key or a proxy's).
pick="SELECT id FROM persons ORDER BY random() LIMIT 1000"
if [ -n "$url" ]; then psql "$url" -Atc "$pick"; else sqlite3 "$work/data/healthcode.sqlite3" "$pick"; fi >"$work/ids.txt"
while read -r id; do
  key=$(curl -s -o /dev/null -D - -H "Origin: $base" --data "person=$id" "$base/demo/signin" \
    | sed -n 's/^[Ss]et-[Cc]ookie: hc_resident=\([^;]*\).*/\1/p')
  echo "$id $key"
done <"$work/ids.txt" >"$work/keys.txt"
{
  echo 'local ids, keys = {}, {}'
  echo "for line in io.lines('$work/keys.txt') do local id, key = line:match('(%S+) (%S+)'); ids[#ids + 1] = id; keys[#keys + 1] = key end"
  echo 'local i = 0'
  echo 'request = function() i = i + 1; local n = (i % #ids) + 1; return wrk.format("GET", "/v1/persons/" .. ids[n] .. "/token", {Authorization = "Bearer " .. keys[n]}) end'
} >"$work/token.lua"
read -r first_id first_key <"$work/keys.txt"
token=$(curl -s -H "Authorization: Bearer $first_key" "$base/v1/persons/$first_id/token" | sed 's/.*"token":"\([^"]*\)".*/\1/')
cat >"$work/verify.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"token":"$token"}'
wrk.headers["Content-Type"] = "application/json"
LUA

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); store: ${url:-SQLite}"
echo "== baseline: raw Ed25519 on one core, and tokens in process"
"$bin" bench tokens --seconds 2
# A second server over the same data and keys, with each signature checked alone (no
# batching), resident keys and code cards always read from the store (no caches, as for an
# app that refreshes every few minutes on a server whose cards another server's colour
# changes keep dropping): the difference each makes, in the same run.
"$bin" serve --listen "127.0.0.1:$((port + 1))" "${store[@]}" --no-verify-batch \
  --signing-keys-file "$work/keys/signing.json" --log-key-file "$work/keys/log.key" \
  --pseudonym-key-file "$work/keys/pseudonym.key" --vault-key-file "$work/keys/vault.key" \
  --resident-key-cache-seconds 0 --code-card-cache-size 0 --scheduler-seconds 3600 >"$work/alone.out" 2>"$work/alone.err" &
alone=$!
trap 'kill "$server" "$alone" 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q "serving on" "$work/alone.out" 2>/dev/null; do sleep 0.2; done

for what in healthz token token-uncached verify verify-alone; do
  pid=$server
  case $what in
    healthz) args=("$base/healthz") ;;
    token) args=(-s "$work/token.lua" "$base") ;;
    token-uncached) args=(-s "$work/token.lua" "http://127.0.0.1:$((port + 1))"); pid=$alone ;;
    verify) args=(-s "$work/verify.lua" "$base/v1/verify") ;;
    verify-alone) args=(-s "$work/verify.lua" "http://127.0.0.1:$((port + 1))/v1/verify"); pid=$alone ;;
  esac
  echo "== $what: wrk -t1 -c$connections -d${seconds}s --latency"
  # The server's and wrk's CPU time over the run: the share of the 2 cores each used.
  before_server=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wrk -t1 -c"$connections" -d"${seconds}s" --latency "${args[@]}" >"$work/wrk.out" &
  wrk_pid=$!
  wait $wrk_pid
  after_server=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors" "$work/wrk.out"
  ticks=$(getconf CLK_TCK)
  cores=$(echo "scale=3; ($after_server - $before_server) / $ticks / $seconds" | bc)
  rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  echo "server CPU: $cores cores; $(echo "scale=1; $cores * 1000000 / $rate" | bc) µs per request"
done
