#!/usr/bin/env bash
# Ingestion figures of issue 7 (BENCHMARKS.md, "Bulk feeds"): a department's 1,000,000-row
# NDJSON batch into SQLite and into PostgreSQL, in process and over HTTP, each run with
# its read-and-parse baseline. PostgreSQL runs get a fresh database each.
#
# Usage: scripts/bench-ingest.sh [SQLITE_RUNS] [POSTGRES_RUNS]
# Needs: a release build (cargo build --release -p healthcode); for PostgreSQL, a server
# at $HEALTHCODE_BENCH_PG (default 127.0.0.1:5432, user postgres) where this may
# create and drop the database hc_ingest (0 PostgreSQL runs skip it).
set -euo pipefail
cd "$(dirname "$0")/.."
sqlite_runs="${1:-3}"
postgres_runs="${2:-2}"
bin="${HEALTHCODE_BIN:-target/release/healthcode}"
server="${HEALTHCODE_BENCH_PG:-127.0.0.1:5432}"
[ -x "$bin" ] || cargo build --release -p healthcode

load() { cut -d' ' -f1 /proc/loadavg; }
echo "# $(date -u '+%F %H:%M UTC') on $(nproc) cores, load $(load)"
for i in $(seq "$sqlite_runs"); do
  echo "## SQLite run $i, load $(load)"
  "$bin" bench ingest --http
done
for i in $(seq "$postgres_runs"); do
  psql -q -h "${server%:*}" -p "${server#*:}" -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS hc_ingest" -c "CREATE DATABASE hc_ingest"
  echo "## PostgreSQL run $i, load $(load)"
  "$bin" bench ingest --http --database-url "postgres://postgres@$server/hc_ingest"
done
