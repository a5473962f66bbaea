#!/usr/bin/env bash
# dytgrad's CPU kernels and GPT training step next to PyTorch's, in one run on this machine, at each
# thread count of THREADS (default "1 2"): bench-cpu, then tools/bench_cpu_torch.py with Debian's
# PyTorch 1.13 (python3-torch, installed when missing) and, when TORCH_VENV names a virtual
# environment holding PyTorch 2.x from PyPI, with that one too; the side-by-side table comes last
# (tools/compare_cpu_bench.py). Every engine is held to the same thread count (OMP_NUM_THREADS,
# OPENBLAS_NUM_THREADS and MKL_NUM_THREADS too: Debian's PyTorch otherwise runs OpenBLAS's own pool).
# Run it on a quiet machine: the engines are timed one after another.
# Environment: BUILD_DIR (default build), OUT (default runs/bench-cpu), THREADS, TORCH_VENV.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
out=${OUT:-runs/bench-cpu}
threads_list=${THREADS:-1 2}
if [ ! -x "$build/bench-cpu" ]; then
  echo "bench_cpu.sh: $build/bench-cpu not found; build first (tools/quickstart.sh test builds everything)" >&2
  exit 2
fi
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "== installing Debian's PyTorch (python3-torch)"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-torch >/dev/null
fi
if [ -n "${TORCH_VENV:-}" ] && ! "$TORCH_VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "bench_cpu.sh: TORCH_VENV=$TORCH_VENV has no PyTorch (python -m venv DIR && DIR/bin/pip install torch)" >&2
  exit 2
fi
mkdir -p "$out"
rm -f "$out"/*.json
for t in $threads_list; do
  pin=(env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" MKL_NUM_THREADS="$t")
  echo "== dytgrad, $t thread(s)"
  "${pin[@]}" "$build/bench-cpu" --threads "$t" --json "$out/dytgrad-$t.json"
  echo "== Debian's PyTorch, $t thread(s)"
  "${pin[@]}" /usr/bin/python3 tools/bench_cpu_torch.py --threads "$t" --json "$out/torch-debian-$t.json"
  if [ -n "${TORCH_VENV:-}" ]; then
    echo "== PyTorch from $TORCH_VENV, $t thread(s)"
    "${pin[@]}" "$TORCH_VENV/bin/python" tools/bench_cpu_torch.py --threads "$t" --json "$out/torch-venv-$t.json"
  fi
done
python3 tools/compare_cpu_bench.py "$out"/*.json | tee "$out/table.md"
