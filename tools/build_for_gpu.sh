#!/usr/bin/env bash
# Builds the CUDA binaries (Release, sm_90 unless CUDA_ARCH says otherwise) on this machine and
# copies what a GPU session needs into .gpu/ (ignored by git), ready to be carried to the GPU machine.
# Without MPI and oneDNN (the GPU machine has neither: its CPU GEMMs go through OpenBLAS); NCCL is
# loaded there at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYTGRAD_CUDA=ON -DDYTGRAD_NATIVE=OFF -DDYTGRAD_MPI=OFF -DDYTGRAD_ONEDNN=OFF \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" >/dev/null
cmake --build build-cuda -j "$(nproc)"
# The same without the profiler's ranges, to measure what they cost when off (tools/gpu_profile_session.sh).
cmake -S . -B build-cuda-noprof -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYTGRAD_CUDA=ON -DDYTGRAD_PROFILER=OFF -DDYTGRAD_NATIVE=OFF \
  -DDYTGRAD_MPI=OFF -DDYTGRAD_ONEDNN=OFF \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" >/dev/null
cmake --build build-cuda-noprof -j "$(nproc)" --target train-gpt
# .gpu/ travels to the GPU machine (64 MiB at most with the tree): the binaries go xz-compressed
# (a fifth of their size); the session scripts unpack them there.
rm -rf .gpu && mkdir -p .gpu/staging
cp build-cuda/dytgrad_tests build-cuda/bench-kernels build-cuda/demo build-cuda/train-gpt build-cuda/train-vit \
  build-cuda/sample .gpu/staging/
cp build-cuda-noprof/train-gpt .gpu/staging/train-gpt-noprof
strip .gpu/staging/*
# Debian's OpenBLAS and SLEEF (and what OpenBLAS needs), used there only when the machine lacks them.
mkdir -p .gpu/staging/lib
for lib in libopenblas.so.0 libsleef.so.3 libgfortran.so.5 libquadmath.so.0; do
  cp -L "/lib/x86_64-linux-gnu/$lib" .gpu/staging/lib/
done
tar -cJf .gpu/binaries.tar.xz -C .gpu/staging . && rm -rf .gpu/staging
# The GPU machine has neither Debian's fortunes nor its Fashion-MNIST: copies of both
# (--data .gpu/fortunes, --data .gpu/fashion-mnist).
mkdir -p .gpu/fortunes
find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' -exec cp {} .gpu/fortunes/ \;
cp -r /usr/share/datasets/fashion-mnist .gpu/fashion-mnist
[ -f ../shared/anchors/triton_dyt.py ] && cp ../shared/anchors/triton_dyt.py .gpu/
du -sh .gpu
