#!/usr/bin/env bash
# Installs what building healbert needs on Debian 12 / Ubuntu, when it is missing:
#   libtorch-dev (libtorch 1.13, CPU), libopenblas0-pthread (libtorch's CPU matmuls are ~10x slower on the
#   reference BLAS that libtorch-dev alone pulls in), cmake, g++, make, ninja-build (faster builds), ccache
#   (rebuilds for other libtorches and clones), python3-venv (the pip-torch test lanes);
#   optionally chromium (only the test that opens `healbert report`'s page headless needs it; where the
#   package does not exist, e.g. Ubuntu, which ships Chromium as a snap, setup warns and goes on).
# Idempotent, and silent when everything is already installed. Needs root (or sudo) only when it installs.
# Usage: scripts/bootstrap-debian.sh [--check]   (--check: list what is missing, install nothing)
set -euo pipefail

packages=(libtorch-dev libopenblas0-pthread cmake g++ make ninja-build ccache python3-venv)
optional=(chromium)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
missing_optional=()
for p in "${optional[@]}"; do installed "$p" || missing_optional+=("$p"); done
[ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--check" ]; then
  all=("${missing[@]}" "${missing_optional[@]}")
  echo "missing: ${all[*]}"
  exit 1
fi
if [ ${#missing[@]} -eq 0 ] && { ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; }; }; then
  echo "bootstrap: optional ${missing_optional[*]} not installed (needed only by the report's browser test)" >&2
  exit 0
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

log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]} (a minute or two)" >&2
  if ! { "${as_root[@]}" apt-get update -q && "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: apt-get failed (output above)" >&2
    exit 1
  fi
fi
if [ ${#missing_optional[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing_optional[*]} (optional: the report's browser test)" >&2
  if ! { { [ ${#missing[@]} -gt 0 ] || "${as_root[@]}" apt-get update -q; } &&
    "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing_optional[@]}"; } >"$log" 2>&1; then
    tail -n 3 "$log" >&2
    echo "bootstrap: could not install ${missing_optional[*]}; everything but the report's browser test works without it" >&2
  fi
fi
rm -f "$log"
