#!/usr/bin/env bash
# One-step setup from a fresh clone: system packages (Debian/Ubuntu, when missing), then npm dependencies,
# the native addon and the TypeScript build (npm ci runs scripts/install.mjs and `tsc`).
# Quiet when there is nothing to do; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".").map(Number).slice(0,2).join(".")' 2>/dev/null || echo 0)
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "setup: healbert needs Node.js >= 20.19 (found ${node_major}); install it from https://nodejs.org or your distribution" >&2
  exit 1
fi

# System packages: only when no libtorch was chosen by the user (LIBTORCH) and we are on Debian/Ubuntu.
if [ -z "${LIBTORCH:-}" ] && command -v dpkg-query >/dev/null 2>&1; then
  scripts/bootstrap-debian.sh
fi

# npm ci when the installed tree is missing or older than the lockfile; else only rebuild what changed.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  node scripts/install.mjs
  npx tsc -p tsconfig.build.json
fi
