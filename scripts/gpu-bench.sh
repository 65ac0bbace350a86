#!/usr/bin/env bash
# Benchmarks on the GPU machine, healbert next to the peer in the same run (called by gpu-check.sh).
# Usage: scripts/gpu-bench.sh <out-dir>
set -uo pipefail
cd "$(dirname "$0")/.."
export OUT=${1:-${OUT:-/tmp/healbert-gpu-out}}
mkdir -p "$OUT"
node --import tsx bench/train-step.ts --device cuda --dtype bfloat16 > "$OUT/train-healbert.log" 2>&1
python3 bench/peer.py --device cuda --dtype bfloat16 > "$OUT/train-peer.log" 2>&1
node --import tsx bench/corrupt.ts --device cuda > "$OUT/corrupt-healbert.log" 2>&1
python3 bench/peer_corrupt.py --device cuda > "$OUT/corrupt-peer.log" 2>&1
node --import tsx bench/summary.ts "$OUT"
