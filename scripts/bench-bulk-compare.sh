#!/usr/bin/env bash
# Two builds' bulk re-evaluation, alternating, each on a fresh store (BENCHMARKS.md, "a
# designation's persons on pages"): PostgreSQL and SQLite at 300,000 residents twice, then
# PostgreSQL at 1,000,000 once.
#   scripts/bench-bulk-compare.sh BEFORE_BINARY AFTER_BINARY [DATABASE_URL_BASE]
# DATABASE_URL_BASE is a server URL without a database (default postgres://postgres@127.0.0.1:5432);
# the database `hc_cmp` is dropped and created for every run. BACKENDS=postgres leaves out
# the SQLite rounds (for a change to the PostgreSQL backend alone).
set -euo pipefail
before="$1"; after="$2"; base="${3:-postgres://postgres@127.0.0.1:5432}"
host_args=(-d "$base/postgres")
fresh() { psql "${host_args[@]}" -qc "DROP DATABASE IF EXISTS hc_cmp" -c "CREATE DATABASE hc_cmp"; }
run() { /usr/bin/time -f "peak %M kB" "$@" 2>&1 | grep -E "loaded|initial|baseline|bulk|CPU|peak"; }
for round in 1 2; do
  for build in "$before" "$after"; do
    fresh
    echo "== PostgreSQL 300k, $build, round $round, $(date -u +%H:%M:%S)"
    run "$build" bench refresh --persons 300000 --database-url "$base/hc_cmp"
  done
done
for round in 1 2; do
  [ "${BACKENDS:-all}" = postgres ] && break
  for build in "$before" "$after"; do
    echo "== SQLite 300k, $build, round $round, $(date -u +%H:%M:%S)"
    run "$build" bench refresh --persons 300000
  done
done
for build in "$before" "$after"; do
  fresh
  echo "== PostgreSQL 1M, $build, $(date -u +%H:%M:%S)"
  run "$build" bench refresh --persons 1000000 --database-url "$base/hc_cmp"
done
psql "${host_args[@]}" -qc "DROP DATABASE IF EXISTS hc_cmp"
