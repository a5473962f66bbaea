#!/usr/bin/env bash
# Builds the CUDA binaries (Release, sm_90 unless CUDA_ARCH says otherwise) on this machine and
# copies what a GPU session needs into .gpu/ (ignored by git), ready to be carried to the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYTGRAD_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" >/dev/null
cmake --build build-cuda -j "$(nproc)"
mkdir -p .gpu
cp build-cuda/dytgrad_tests build-cuda/bench-kernels build-cuda/demo build-cuda/train-gpt .gpu/
[ -f ../shared/anchors/triton_dyt.py ] && cp ../shared/anchors/triton_dyt.py .gpu/
strip .gpu/dytgrad_tests .gpu/bench-kernels .gpu/demo .gpu/train-gpt
du -sh .gpu
