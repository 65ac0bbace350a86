#!/usr/bin/env bash
# Prepares what the GPU machine needs but cannot download (it has no network): a compressed, pruned
# node_modules and the compiled dist/, under .gpu/ (git-ignored). Then run, with the device tool:
#   carry: [".device", ".gpu"]   command: source .device/gpu-env.sh; scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "gpu-pack: run scripts/setup.sh first" >&2; exit 1; }
npx tsc -p tsconfig.build.json
mkdir -p .gpu
# Linters, the compiler and the tokenizer reference (data-layer tests run in CI) are not needed there;
# tsx (with esbuild) runs the tests.
tar -cJf .gpu/node_modules.tar.xz \
  --exclude='node_modules/@biomejs' --exclude='node_modules/clang-format' \
  --exclude='node_modules/typescript' --exclude='node_modules/prebuildify' \
  --exclude='node_modules/tokenizers' --exclude='node_modules/@tokenizers' \
  node_modules dist
du -h .gpu/node_modules.tar.xz
