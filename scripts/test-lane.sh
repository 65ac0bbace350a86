#!/usr/bin/env bash
# One libtorch test lane beyond Debian's 1.13 (which plain `ava` tests): builds the addon against a pip
# PyTorch into build-lanes/<name>/, checks that every torch library it needs resolves inside that torch
# (ldd), runs `healbert doctor` with it, then the tests with HEALBERT_ADDON pointing at it.
#   scripts/test-lane.sh cpu    torch 2.13 CPU: the whole suite, 2.x paths included
#   scripts/test-lane.sh cuda   torch 2.14.1 CUDA 13: compiled with the CUDA code on, loads and runs on the CPU
# Where the wheels cannot be installed the lane is skipped with one line saying how to run it; with CI=true
# it is required.
set -euo pipefail
cd "$(dirname "$0")/.."
lane=${1:?usage: scripts/test-lane.sh cpu|cuda}
start=$SECONDS
status=0
torch=$(scripts/torch-env.sh "$lane") || status=$?
if [ $status -ne 0 ]; then
  if [ $status -eq 3 ] && [ "${CI:-}" != "true" ]; then
    echo "lane $lane: SKIPPED (no pip torch wheels here; see the line above, or run with HEALBERT_TORCH_$(echo "$lane" | tr a-z A-Z)=<torch folder>)"
    exit 0
  fi
  echo "lane $lane: FAILED to set up its torch" >&2
  exit 1
fi

out=build-lanes/torch-$lane
LIBTORCH=$torch node scripts/install.mjs --out "$out"
addon=$out/Release/healbert.node

# Every torch library the addon needs comes from that torch (ldd follows the addon's RPATH).
bad=$(ldd "$addon" | grep -E 'lib(torch|c10)' | grep -v "=> $torch/lib/" || true)
missing=$(ldd "$addon" | grep 'not found' || true)
if [ -n "$bad$missing" ]; then
  echo "lane $lane: the addon's torch libraries do not all resolve inside $torch/lib:" >&2
  echo "$bad$missing" >&2
  exit 1
fi

# A CUDA build calls the CUDA runtime itself (the corruption kernel): it must load the very libcudart that
# libtorch_cuda loads, not a second copy.
if [ "$lane" = cuda ]; then
  mine=$(ldd "$addon" | awk '/libcudart/ {print $3}')
  torchs=$(ldd "$torch/lib/libtorch_cuda.so" | awk '/libcudart/ {print $3}')
  if [ -z "$mine" ] || [ "$(readlink -f "$mine")" != "$(readlink -f "$torchs")" ]; then
    echo "lane cuda: the addon's libcudart ($mine) is not libtorch_cuda's ($torchs)" >&2
    exit 1
  fi
fi

export HEALBERT_ADDON=$PWD/$addon
# The environment's python, with transformers where the lane installed it: the reference and round-trip
# tests call it (test/helpers/python.ts).
python=$(cd "$torch/../../../.." && pwd)/bin/python
if [ -x "$python" ] && "$python" -c 'import transformers' 2>/dev/null; then
  export HEALBERT_PYTHON=$python
elif [ "$lane" = cpu ]; then
  [ "${CI:-}" = true ] && { echo "lane cpu: $python cannot import transformers (CI requires it)" >&2; exit 1; }
  echo "lane cpu: no transformers next to $torch: the tests against transformers are skipped (pip install transformers==5.17.0 there to run them)"
fi
npx tsc -p tsconfig.build.json  # bin/healbert.js runs dist/
node bin/healbert.js doctor --size 64 | tee "$out/doctor.txt"
if [ "$lane" = cuda ]; then
  grep -q 'built with CUDA, no device' "$out/doctor.txt" || { echo "lane cuda: doctor does not report a CUDA build" >&2; exit 1; }
  # A smoke subset on the CPU: loading, errors, the model's arithmetic against the parity references,
  # training, corruption, the 2.x paths (DeBERTa's and ModernBERT's attention among them).
  npx ava test/doctor.test.ts test/native-errors.test.ts test/loader.test.ts test/torch-mismatch.test.ts test/model/parity.test.ts \
    test/model/train.test.ts test/model/torch2-paths.test.ts test/model/fleet.test.ts test/model/deberta-modernbert-engine.test.ts \
    test/corruption
else
  npx ava
fi
echo "lane $lane: passed in $((SECONDS - start)) s (libtorch from $torch)"
