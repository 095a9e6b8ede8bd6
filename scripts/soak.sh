#!/usr/bin/env bash
# The soak of issue 17 (BENCHMARKS.md): `healthcode bench soak` on SQLite, then on
# PostgreSQL in a fresh schema, each for MINUTES (default 10) at 80% of the peak it
# measures first. Each run fails on any error or on the server's memory growing more
# than 10% from the second minute to the last.
#
# Usage: scripts/soak.sh [MINUTES]   (HEALTHCODE_TEST_DATABASE_URL for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
bin="${HEALTHCODE_BIN:-${CARGO_TARGET_DIR:-target}/release/healthcode}"
[ -x "$bin" ] || cargo build --release -p healthcode
url="${HEALTHCODE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ)"
# The server's SQLite caches bounded (`serve --sqlite-cache-mib`): with the default 512 MiB
# they keep filling for as long as a fresh store grows, which is not a leak but would fail
# the memory check (BENCHMARKS.md, "the soak again").
cache_mib="${HEALTHCODE_SQLITE_CACHE_MIB:-64}"
failed=0
echo "== SQLite (page caches bounded at $cache_mib MiB)"
HEALTHCODE_SQLITE_CACHE_MIB="$cache_mib" "$bin" bench soak --minutes "$minutes" || failed=1
if command -v psql >/dev/null && psql "$url" -c "SELECT 1" >/dev/null 2>&1; then
  schema="hc_soak_$$"
  psql "$url" -q -c "CREATE SCHEMA $schema"
  trap 'psql "$url" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE"' EXIT
  echo "== PostgreSQL ($url, schema $schema)"
  "$bin" bench soak --minutes "$minutes" --database-url "$url?options=-c%20search_path%3D$schema" || failed=1
else
  echo "== PostgreSQL: not reachable at $url; skipped"
fi
exit "$failed"
