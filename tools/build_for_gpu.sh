#!/usr/bin/env bash
# Builds the CUDA binaries (Release, sm_90 unless CUDA_ARCH says otherwise) on this machine and
# copies what a GPU session needs into .gpu/ (ignored by git), ready to be carried to the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYTGRAD_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" >/dev/null
cmake --build build-cuda -j "$(nproc)"
# The same without the profiler's ranges, to measure what they cost when off (tools/gpu_profile_session.sh).
cmake -S . -B build-cuda-noprof -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYTGRAD_CUDA=ON -DDYTGRAD_PROFILER=OFF \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" >/dev/null
cmake --build build-cuda-noprof -j "$(nproc)" --target train-gpt
mkdir -p .gpu
cp build-cuda/dytgrad_tests build-cuda/bench-kernels build-cuda/demo build-cuda/train-gpt build-cuda/train-vit \
  build-cuda/sample .gpu/
cp build-cuda-noprof/train-gpt .gpu/train-gpt-noprof
# The GPU machine has no fortunes package: a copy of the corpus (train-gpt --data .gpu/fortunes).
mkdir -p .gpu/fortunes
find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' -exec cp {} .gpu/fortunes/ \;
[ -f ../shared/anchors/triton_dyt.py ] && cp ../shared/anchors/triton_dyt.py .gpu/
strip .gpu/dytgrad_tests .gpu/bench-kernels .gpu/demo .gpu/train-gpt .gpu/train-vit .gpu/sample .gpu/train-gpt-noprof
du -sh .gpu
