#!/usr/bin/env bash
# Prepares what the GPU machine needs but cannot download (it has no network): a compressed, pruned
# node_modules and the compiled dist/, and SST-2 (train and dev, for the sweep benchmarks), under .gpu/
# (git-ignored). Then run, with the device tool:
#   carry: [".device", ".gpu"]   command: source .device/gpu-env.sh; scripts/gpu-check.sh 480
# Prints what the call would send: the device tool refuses more than 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "gpu-pack: run scripts/setup.sh first" >&2; exit 1; }
npx tsc -p tsconfig.build.json
mkdir -p .gpu
# Linters, the compiler, the browser driver and the tokenizer reference (data-layer tests run in CI) are not
# needed there; tsx (with esbuild) runs the tests and benchmarks.
tar -cJf .gpu/node_modules.tar.xz \
  --exclude='node_modules/@biomejs' --exclude='node_modules/clang-format' \
  --exclude='node_modules/typescript' --exclude='node_modules/prebuildify' \
  --exclude='node_modules/tokenizers' --exclude='node_modules/@tokenizers' \
  --exclude='node_modules/playwright-core' --exclude='node_modules/@types' \
  node_modules dist
glue=${GLUE:-../shared/data/glue}
rm -rf .gpu/glue
if [ -f "$glue/SST-2/train.tsv" ]; then
  tar -cJf .gpu/glue.tar.xz -C "$glue" SST-2/train.tsv SST-2/dev.tsv # unpacked there into .gpu/glue
else
  echo "gpu-pack: no SST-2 under $glue (set GLUE): the sweep benchmarks will fail there" >&2
fi
du -sh .gpu/node_modules.tar.xz .gpu/glue.tar.xz 2>/dev/null || true
# What travels: tracked and untracked-not-ignored files, plus the carried .device and .gpu.
sent=$( (git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- | tail -n1 | cut -f1) 2>/dev/null)
carried=$(du -cb .gpu .device 2>/dev/null | tail -n1 | cut -f1)
total=$((sent + carried))
echo "gpu-pack: the call sends $((total / 1048576)) MiB (working tree $((sent / 1048576)), .gpu and .device $((carried / 1048576))); the limit is 64"
[ "$total" -lt $((64 * 1048576)) ] || { echo "gpu-pack: over the device tool's 64 MiB" >&2; exit 1; }
