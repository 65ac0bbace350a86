#!/usr/bin/env bash
# The GPU lane, run on the GPU machine in one device call (see ../shared/device/README.md and the README):
# unpack node_modules, build the addon against the image's CUDA libtorch, run `healbert doctor`, the GPU tests
# (HEALBERT_TEST_GPU=1: CUDA parity for every family, fleets, the corruption kernel) and the benchmarks next to
# the transformers peer in the same run (scripts/gpu-bench.sh).
#
#   source .device/gpu-env.sh; scripts/gpu-check.sh [budget-seconds] [step ...]
#
# Expects .gpu/ from scripts/gpu-pack.sh (node_modules, dist, SST-2). The budget (default 480 s) is the whole
# run's: every step runs under `timeout` with what is left, so that the logs always come back. The device tool
# returns at most 8 files, so logs and result JSONs are packed into $OUT/gpu-run.tar.gz, the compiled addon
# into $OUT/addon.tar.gz (a second call can carry it as build/ and skip the build), and the summary table is
# printed last and written to $OUT/summary.md. Named steps run only those (after unpack and build).
# HEALBERT_GPU_DEVICE=cpu rehearses the whole script on a machine without a GPU (benchmarks on the CPU).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/healbert-gpu-out}
budget=${1:-480}
shift || true
only=" $* "
device=${HEALBERT_GPU_DEVICE:-cuda}
gpu_tests=$([ "$device" = cpu ] && echo 0 || echo 1) # a CPU rehearsal runs the GPU tests' files, skipped
work=${HEALBERT_GPU_WORK:-/tmp/healbert-gpu}
rm -rf "$work"
mkdir -p "$work/logs" "$work/results" "$OUT"
export HEALBERT_GPU_RESULTS=$work/results
deadline=$((SECONDS + budget - 25)) # 25 s kept for packing
summary=()

# step <name> <max-seconds> <command...>: runs under the smaller of its limit and what is left of the budget,
# logs to $work/logs/<name>.log, records the outcome and seconds.
step() {
  local name=$1 max=$2
  shift 2
  if [ "$only" != "  " ] && [[ $only != *" $name "* ]] && [ "$name" != unpack ] && [ "$name" != build ]; then return 0; fi
  local left=$((deadline - SECONDS))
  if [ "$left" -lt 10 ]; then
    summary+=("$name|skipped: budget spent|0 s")
    return 1
  fi
  [ "$max" -gt "$left" ] && max=$left
  local start=$SECONDS rc result
  timeout -k 5 "$max" "$@" >"$work/logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) result=ok ;;
    124 | 137) result="TIMED OUT at ${max} s" ;;
    *) result="FAILED (exit $rc)" ;;
  esac
  summary+=("$name|$result|$((SECONDS - start)) s")
  echo "== $name: $result ($((SECONDS - start)) s)"
  [ $rc -eq 0 ] || tail -n 25 "$work/logs/$name.log"
  return $rc
}

pack() {
  {
    echo "| step | result | time |"
    echo "| --- | --- | --- |"
    for row in "${summary[@]}"; do echo "| ${row//|/ | } |"; done
    echo
    node --import tsx bench/summary.ts "$work/results" 2>/dev/null || true
  } >"$OUT/summary.md"
  # Logs and the top-level result JSONs (the sweep folders' model weights stay behind).
  tar -czf "$OUT/gpu-run.tar.gz" -C "$work" logs $(cd "$work" && ls results/*.json 2>/dev/null)
  [ -f build/Release/healbert.node ] && tar -czf "$OUT/addon.tar.gz" -C build Release
  echo
  cat "$OUT/summary.md"
}
trap pack EXIT

echo "gpu-check: budget ${budget} s, device $device, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null)"
step unpack 60 sh -c 'tar -xJf .gpu/node_modules.tar.xz && mkdir -p .gpu/glue && { [ ! -f .gpu/glue.tar.xz ] || tar -xJf .gpu/glue.tar.xz -C .gpu/glue; }' || exit 1
if [ -f build/Release/healbert.node ] && [ "${HEALBERT_GPU_REBUILD:-0}" != 1 ]; then
  summary+=("build|carried (build/Release)|0 s")
else
  # One architecture (the card's) instead of four: the build is on the clock.
  step build 300 env HEALBERT_BUILD_FROM_SOURCE=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} node scripts/install.mjs || exit 1
fi
step doctor 60 node bin/healbert.js doctor --size 2048

# Benchmarks and tests, most wanted first (the budget may end the list).
source scripts/gpu-bench.sh
bench_core
step real-size-fixture 90 python3 test/fixtures/parity/generate_real_size.py --device "$device" --out "$work/real-size"
step tests 180 env HEALBERT_TEST_GPU="$gpu_tests" HEALBERT_REAL_SIZE_DIR="$work/real-size" node node_modules/ava/entrypoints/cli.mjs --timeout=3m test/gpu test/doctor.test.ts
bench_families
bench_sweeps
bench_fp32
