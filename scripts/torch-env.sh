#!/usr/bin/env bash
# Creates (once) and prints the torch package folder of a pip PyTorch for a test lane:
#   scripts/torch-env.sh cpu    torch 2.13.0 (CPU wheel) with transformers 5.17 (the reference and the peer) and sentencepiece
#   scripts/torch-env.sh cuda   torch 2.14.1 (CUDA 13 wheel) with NVIDIA's CUDA 13 library wheels
# Environments live in ${HEALBERT_TORCH_ENVS:-~/.cache/healbert/torch-envs}/<name> and are reused by later
# runs and other clones on the same machine; one is used only once its install finished (a `.complete` mark).
# HEALBERT_TORCH_CPU / HEALBERT_TORCH_CUDA: use this torch package folder instead (your own environment).
# Exit status 3, with one line saying how to get the wheels, when pip cannot install them here.
set -euo pipefail
lane=${1:?usage: scripts/torch-env.sh cpu|cuda}
root=${HEALBERT_TORCH_ENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/healbert/torch-envs}

case $lane in
  cpu)
    # The name lists the package set: a changed set gets a new folder, so existing machines rebuild it.
    name=torch-2.13.0-cpu-transformers-5.17.0-spm
    override=${HEALBERT_TORCH_CPU:-}
    # torch==2.13.0 matches the local 2.13.0+cpu wheel (and PyTorch's CPU index). transformers (with its
    # tokenizers) makes the parity references, the tokenizer references and the round trips, and is the
    # peer of bench:cpu. transformers reads SentencePiece .model files with sentencepiece and protobuf (the
    # .model-only folders of the Unigram parity tests); test/fixtures/tokenizer/unigram/make_fixtures.py
    # trains the tiny Unigram tokenizers with sentencepiece.
    packages=(torch==2.13.0 numpy safetensors transformers==5.17.0 sentencepiece protobuf)
    deps=yes
    ;;
  cuda)
    name=torch-2.14.1-cu130
    override=${HEALBERT_TORCH_CUDA:-}
    # --no-deps: the wheel also asks for triton and cuda-bindings, which the addon never loads.
    packages=(torch==2.14.1 nvidia-cuda-runtime nvidia-cublas nvidia-cufft nvidia-cufile nvidia-cuda-cupti
      nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-nvjitlink nvidia-cuda-nvrtc nvidia-nvtx
      nvidia-cudnn-cu13 nvidia-cusparselt-cu13 nvidia-nccl-cu13 nvidia-nvshmem-cu13
      filelock typing-extensions sympy mpmath networkx jinja2 markupsafe fsspec)
    deps=no
    ;;
  *) echo "torch-env: unknown lane '$lane' (cpu or cuda)" >&2; exit 2 ;;
esac

if [ -n "$override" ]; then
  [ -f "$override/share/cmake/Torch/TorchConfig.cmake" ] || { echo "torch-env: $override is not a torch package folder" >&2; exit 2; }
  echo "$override"
  exit 0
fi

env_dir=$root/$name
site() { "$env_dir/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null; }
if [ -f "$env_dir/.complete" ] && site >/dev/null; then
  site
  exit 0
fi

python=$(command -v python3 || true)
[ -n "$python" ] || { echo "torch-env: python3 not found" >&2; exit 3; }
rm -rf "$env_dir"
mkdir -p "$root"
"$python" -m venv "$env_dir" >&2 || { echo "torch-env: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 3; }
log=$env_dir/install.log
flags=(--quiet --disable-pip-version-check --retries 0 --timeout 20)
[ $deps = no ] && flags+=(--no-deps)
echo "torch-env: installing ${packages[0]} into $env_dir (a few minutes, once)" >&2
if ! "$env_dir/bin/pip" install "${flags[@]}" "${packages[@]}" >"$log" 2>&1; then
  tail -n 3 "$log" >&2
  echo "torch-env: pip cannot install ${packages[*]:0:1} here; to run this lane, make it installable (pip config, a wheel folder in PIP_FIND_LINKS) or set HEALBERT_TORCH_$(echo "$lane" | tr a-z A-Z)=<a torch package folder>" >&2
  exit 3
fi
site >/dev/null || { echo "torch-env: torch installed but does not import (see $log)" >&2; exit 3; }
touch "$env_dir/.complete"
site
