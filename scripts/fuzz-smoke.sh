#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a short, bounded time (FUZZ_SECONDS each, default
# 20), one after the other (never two fuzzers at once), from its committed seeds
# (fuzz/seeds/<target>) and a scratch corpus. Exits non-zero if any target crashes, hangs
# (-timeout) or runs out of memory (-rss_limit_mb), naming it; cargo-fuzz keeps the input
# in fuzz/artifacts/<target>/. Needs the nightly toolchain and cargo-fuzz (fuzz/README.md
# says why and how).
#
#   scripts/fuzz-smoke.sh                 # every target
#   scripts/fuzz-smoke.sh token_verify    # some of them
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-20}"
build=(--sanitizer "${FUZZ_SANITIZER:-address}")
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
  build+=(--target-dir "$FUZZ_TARGET_DIR")
fi
if [ "${FUZZ_PAGES:-0}" = 1 ]; then
  build+=(--features pages)
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
  if [ "${FUZZ_PAGES:-0}" != 1 ]; then
    mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -vx form_body)
    echo "fuzz smoke: form_body not run (FUZZ_PAGES=1 runs it too; it builds the server)"
  fi
fi

echo "fuzz smoke: building ${#targets[@]} targets (sanitizer: ${FUZZ_SANITIZER:-address})"
if ! cargo +nightly fuzz build "${build[@]}"; then
  echo "fuzz smoke: FAILED to build the fuzz targets" >&2
  exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "seeds/$target"
  log="$scratch/$target.log"
  if cargo +nightly fuzz run "${build[@]}" "$target" "$scratch/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    stats="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
    cov="$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1 | sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')"
    echo "fuzz smoke: ok      $target (${seconds}s, ${stats:-?} executions, ${cov:-no coverage line})"
  else
    failed+=("$target")
    echo "fuzz smoke: FAILED  $target — last lines of its log:" >&2
    grep -E 'panicked|ERROR|SUMMARY|Test unit written|Running:|timeout|out-of-memory' "$log" | tail -15 >&2
    tail -5 "$log" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
  exit 1
fi
echo "fuzz smoke: all ${#targets[@]} targets ran ${seconds}s each without a crash"
