#!/usr/bin/env bash
# The GPU lane, run on the GPU machine in one call (see ../shared/device/README.md and the README):
# unpack node_modules, build the addon against the image's CUDA libtorch, run `healbert doctor`, the whole
# test suite with HEALBERT_TEST_GPU=1, and the benchmarks; logs go to $OUT, a summary table prints last.
# Expects `source .device/gpu-env.sh` first (node on PATH, LIBTORCH set) and .gpu/ from scripts/gpu-pack.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/healbert-gpu-out}
mkdir -p "$OUT"
summary=()
step() {  # step <name> <command...>: runs, logs to $OUT/<name>.log, records pass/fail and seconds
  local name=$1; shift
  local start=$SECONDS
  if "$@" >"$OUT/$name.log" 2>&1; then summary+=("$name|ok|$((SECONDS - start))s"); else summary+=("$name|FAILED (see $name.log)|$((SECONDS - start))s"); fi
  tail -n 40 "$OUT/$name.log"
}

step unpack tar -xJf .gpu/node_modules.tar.xz
step build env HEALBERT_BUILD_FROM_SOURCE=1 node scripts/install.mjs
step doctor node bin/healbert.js doctor --size 2048
step real-size-fixture python3 test/fixtures/parity/generate_real_size.py --out /tmp/healbert-real-size
# The engine's tests (the data layer's run in CI; they need no GPU).
step tests env HEALBERT_TEST_GPU=1 HEALBERT_REAL_SIZE_DIR=/tmp/healbert-real-size npx ava --timeout=10m test/gpu test/doctor.test.ts test/native-errors.test.ts test/model test/corruption
if [ -x scripts/gpu-bench.sh ]; then step bench scripts/gpu-bench.sh "$OUT"; fi

echo
echo "| step | result | time |"
echo "| --- | --- | --- |"
for row in "${summary[@]}"; do echo "| ${row//|/ | } |"; done
