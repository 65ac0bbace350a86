#!/usr/bin/env bash
# `npm run bench:cpu`: healbert against transformers on this machine's CPU, both on the same torch.
# Builds healbert against the pip-torch lane's torch 2.13 (scripts/torch-env.sh cpu makes the environment
# once, with transformers), then runs bench/cpu.ts, which times each workload on both sides in one run and
# writes bench/results/cpu-summary.json. Arguments go to bench/cpu.ts (e.g. --only corrupt --repeat 9).
set -euo pipefail
cd "$(dirname "$0")/.."
torch=$(scripts/torch-env.sh cpu)
out=build-lanes/torch-cpu
LIBTORCH=$torch node scripts/install.mjs --out "$out" >&2
export HEALBERT_ADDON=$PWD/$out/Release/healbert.node
export HEALBERT_PYTHON=$(cd "$torch/../../../.." && pwd)/bin/python
exec node --import tsx bench/cpu.ts "$@"
