#!/usr/bin/env bash
# Benchmarks on the GPU machine, healbert next to the peer in the same run (called by gpu-check.sh).
# Usage: scripts/gpu-bench.sh <out-dir>. Exits non-zero if any benchmark failed (its log says why).
set -uo pipefail
cd "$(dirname "$0")/.."
export OUT=${1:-${OUT:-/tmp/healbert-gpu-out}}
mkdir -p "$OUT"
failed=0
run() {  # run <log-name> <command...>
  local log="$OUT/$1.log"; shift
  if ! "$@" >"$log" 2>&1; then
    failed=1
    echo "FAILED: $* (last lines of $log):"
    tail -n 15 "$log"
  fi
}
run train-healbert node --import tsx bench/train-step.ts --device cuda --dtype bfloat16
run train-peer python3 bench/peer.py --device cuda --dtype bfloat16
run corrupt-healbert node --import tsx bench/corrupt.ts --device cuda
run corrupt-peer python3 bench/peer_corrupt.py --device cuda
run sweep-healbert node --import tsx bench/sweep-cell.ts --device cuda --glue "${GLUE:-../shared/data/glue}"
run sweep-peer python3 bench/peer_cell.py --device cuda --glue "${GLUE:-../shared/data/glue}" --work "$OUT/sweep-cell"
# Fleets of 1, 2, 4 and 8 bert-base cells (issue 15): cells per hour, and the same scores at every size.
run fleet-healbert node --import tsx bench/fleet.ts --device cuda --glue "${GLUE:-../shared/data/glue}"
node --import tsx bench/summary.ts "$OUT"
exit $failed
