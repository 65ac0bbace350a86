#!/usr/bin/env bash
# Benchmarks on the GPU machine, healbert next to the transformers peer in the same run.
#   scripts/gpu-bench.sh [out-dir]     all of them; exits non-zero if any failed (its log says why)
# scripts/gpu-check.sh sources this file for the same lists (bench_core, bench_families, bench_sweeps, bench_fp32) and runs
# them between its tests under its time budget. Results (JSON) go to $HEALBERT_GPU_RESULTS; SST-2 comes from
# $GLUE, else .gpu/glue (scripts/gpu-pack.sh), else ../shared/data/glue.
device=${HEALBERT_GPU_DEVICE:-cuda}
glue=${GLUE:-}
if [ -z "$glue" ]; then
  if [ -f .gpu/glue/SST-2/train.tsv ]; then glue=.gpu/glue; else glue=../shared/data/glue; fi
fi

# bench_step <name> <max-seconds> <command...>: a step whose results go to $HEALBERT_GPU_RESULTS.
bench_step() {
  local name=$1 max=$2
  shift 2
  step "$name" "$max" env OUT="$HEALBERT_GPU_RESULTS" "$@"
}

# The training step (bf16, the issue's target) and the corruption of 12 layers, each with its peer.
bench_core() {
  bench_step train-healbert 90 node --import tsx bench/train-step.ts --device "$device" --dtype bfloat16
  bench_step train-peer 90 python3 bench/peer.py --device "$device" --dtype bfloat16
  bench_step corrupt-healbert 60 node --import tsx bench/corrupt.ts --device "$device"
  bench_step corrupt-peer 60 python3 bench/peer_corrupt.py --device "$device"
}

# A whole sweep cell on SST-2 (with its peer), and fleets of 1, 8 and 4 cells (solo first: the baseline).
bench_sweeps() {
  bench_step sweep-healbert 120 node --import tsx bench/sweep-cell.ts --device "$device" --glue "$glue"
  bench_step sweep-peer 120 python3 bench/peer_cell.py --device "$device" --glue "$glue" --work "$HEALBERT_GPU_RESULTS/sweep-cell"
  bench_step fleet-healbert 200 node --import tsx bench/fleet.ts --device "$device" --glue "$glue" --sizes "${FLEET_SIZES:-1,8,4}"
}

# A training-step row for every other family.
bench_families() {
  for family in roberta distilbert; do
    bench_step "train-$family-healbert" 60 node --import tsx bench/train-step.ts --device "$device" --dtype bfloat16 --family $family
    bench_step "train-$family-peer" 60 python3 bench/peer.py --device "$device" --dtype bfloat16 --family $family
  done
}

# BERT's training step in float32.
bench_fp32() {
  bench_step train-fp32-healbert 60 node --import tsx bench/train-step.ts --device "$device" --dtype float32
  bench_step train-fp32-peer 60 python3 bench/peer.py --device "$device" --dtype float32
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  cd "$(dirname "$0")/.."
  export HEALBERT_GPU_RESULTS=${1:-${OUT:-/tmp/healbert-gpu-out}}
  mkdir -p "$HEALBERT_GPU_RESULTS"
  failed=0
  step() { # step <name> <max-seconds> <command...>
    local name=$1
    shift 2
    "$@" >"$HEALBERT_GPU_RESULTS/$name.log" 2>&1 || { failed=1; echo "FAILED: $name (last lines of its log):"; tail -n 15 "$HEALBERT_GPU_RESULTS/$name.log"; }
  }
  bench_core
  bench_families
  bench_sweeps
  bench_fp32
  node --import tsx bench/summary.ts "$HEALBERT_GPU_RESULTS"
  exit $failed
fi
