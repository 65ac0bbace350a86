#!/usr/bin/env bash
# Installs what building healbert needs on Debian 12 / Ubuntu, when it is missing:
#   libtorch-dev (libtorch 1.13, CPU), libopenblas0-pthread (libtorch's CPU matmuls are ~10x slower on the
#   reference BLAS that libtorch-dev alone pulls in), cmake, g++, make, ninja-build (faster builds).
# Idempotent, and silent when everything is already installed. Needs root (or sudo) only when it installs.
# Usage: scripts/bootstrap-debian.sh [--check]   (--check: list what is missing, install nothing)
set -euo pipefail

packages=(libtorch-dev libopenblas0-pthread cmake g++ make ninja-build)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--check" ]; then
  echo "missing: ${missing[*]}"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: apt-get not found; install these yourself: ${missing[*]} (or point LIBTORCH at a libtorch)" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "bootstrap: these packages are missing and installing them needs root: ${missing[*]}" >&2
    echo "  run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

echo "bootstrap: installing ${missing[*]} (a minute or two)" >&2
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -q && "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "bootstrap: apt-get failed (output above)" >&2
  exit 1
fi
rm -f "$log"
