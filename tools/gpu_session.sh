#!/usr/bin/env bash
# Everything one GPU session needs, in one call (see docs/BENCHMARKS.md for how it is used):
#   1. what the machine is, and that the binaries find their libraries;
#   2. the whole test suite, GPU parity tests included;
#   3. compute-sanitizer memcheck over the GPU tests, racecheck over the shared-memory kernels;
#   4. NCCL on the GPU, a world of one: the collectives' test, and train-gpt --zero over NCCL
#      against the plain run (the same losses);
#   5. mixed precision: train-gpt --dtype bf16 against float32 (losses, tokens/s at --gpu-config,
#      and a profile of 3 of its steps: kernel time against the step's wall clock, the casts; both
#      again with the kernels not yet run on a GPU switched on),
#      and PyTorch's step of the same model (tools/bench_torch_step.py); the step captured as a CUDA
#      graph (--cuda-graph, float32 and bf16) against the same runs without it (the same losses, bit
#      for bit, and tokens/s);
#   6. bench-kernels (kernels, and the GPT-2-size step in float32 and bf16, also with the unverified
#      kernels on and as a CUDA graph), the Triton DyT anchor and PyTorch on the same shapes, side by side;
#   7. the targets of the GPU work, each met or missed by how much (tools/gpu_targets.py; last).
# Binaries come prebuilt in $BIN (default .gpu/, built with tools/build_for_gpu.sh). Logs and JSON
# go to $OUT (default /tmp/dytgrad-gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.gpu}
OUT=${OUT:-/tmp/dytgrad-gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
# tools/build_for_gpu.sh ships the binaries compressed.
[ -f "$BIN/binaries.tar.xz" ] && tar -xJf "$BIN/binaries.tar.xz" -C "$BIN"
status=0
step() { echo; echo "== $*"; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
date -u
# Libraries the machine lacks come from $BIN/lib (Debian's, shipped by tools/build_for_gpu.sh).
ldd "$BIN/dytgrad_tests" | grep -q "not found" && export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$PWD/$BIN/lib
if ldd "$BIN/dytgrad_tests" | grep -q "not found"; then ldd "$BIN/dytgrad_tests" | grep "not found"; exit 1; fi

step "test suite (CPU and GPU)"
# A bounded time, so that a test that hangs (a kernel never run on a GPU before) leaves the rest
# of the session its time.
timeout 240 "$BIN/dytgrad_tests" 2>&1 | tee "$OUT/tests.log" | tail -n 4 || status=1

step "compute-sanitizer memcheck over the GPU tests"
if command -v compute-sanitizer >/dev/null; then
  timeout 300 compute-sanitizer --tool memcheck --leak-check no --error-exitcode 3 "$BIN/dytgrad_tests" "[cuda]" >"$OUT/memcheck.log" 2>&1 || status=1
  tail -n 3 "$OUT/memcheck.log"
  step "compute-sanitizer racecheck over the shared-memory kernels"
  timeout 300 compute-sanitizer --tool racecheck --error-exitcode 3 "$BIN/dytgrad_tests" "[shared_memory]" >"$OUT/racecheck.log" 2>&1 || status=1
  tail -n 3 "$OUT/racecheck.log"
else
  echo "compute-sanitizer not found"; status=1
fi

step "NCCL collectives and ZeRO-1 on the GPU (a world of one)"
# libnccl.so.2: the CUDA toolkit's, or PyTorch's nvidia-nccl package.
nccl_lib=$(python3 -c "import importlib.util as u, os; s = u.find_spec('nvidia.nccl'); print(os.path.join(list(s.submodule_search_locations)[0], 'lib'))" 2>/dev/null || true)
[ -n "$nccl_lib" ] && export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$nccl_lib
DYTGRAD_NCCL=1 timeout 120 "$BIN/dytgrad_tests" "[nccl]" 2>&1 | tee "$OUT/nccl.log" | tail -n 3 || status=1
gpt=(--device cuda --steps 30 --width 64 --layers 2 --heads 2 --block-size 64 --batch 16 --eval-every 30
     --sample-chars 0 --overwrite --data "$BIN/fortunes")
timeout 120 "$BIN/train-gpt" "${gpt[@]}" --out "$OUT/gpt-plain" > "$OUT/gpt-plain.log" 2>&1 || status=1
DYTGRAD_NCCL=1 timeout 120 "$BIN/train-gpt" "${gpt[@]}" --zero --out "$OUT/gpt-zero-nccl" > "$OUT/gpt-zero-nccl.log" 2>&1 || status=1
grep -h "optimiser" "$OUT/gpt-zero-nccl.log"
python3 - "$OUT/gpt-plain/log.jsonl" "$OUT/gpt-zero-nccl/log.jsonl" <<'PY' || status=1
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
worst = max(abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(a, b))
print(f"train-gpt --zero over NCCL against the plain run: {len(b)} of {len(a)} steps, largest relative loss difference {worst:.2e}")
assert len(a) == len(b) == 30 and worst < 1e-4
PY

step "mixed precision on the GPU: train-gpt --dtype bf16 against float32"
timeout 120 "$BIN/train-gpt" "${gpt[@]}" --dtype bf16 --out "$OUT/gpt-bf16" > "$OUT/gpt-bf16.log" 2>&1 || status=1
# *-unverified: the same with the CUDA kernels that have not yet run on a GPU switched on
# (DYTGRAD_CUDA_UNVERIFIED=1; now the one-pass gradient norm, sum_of_squares, read by AdamW on the
# device, sums of a few long rows in chunks, cross_entropy on bfloat16 logits, the bfloat16
# elementwise kernels, bias adds without the strided path, gelu's one-pass backward, linear's bias and
# linear_gelu's gelu in cuBLASLt's epilogue, attention as batched GEMMs on tensor cores in float32 and bfloat16), to compare
# the step.
for run in float32 bf16 float32-unverified bf16-unverified; do
  unverified=0
  [[ $run == *-unverified ]] && unverified=1
  DYTGRAD_CUDA_UNVERIFIED=$unverified timeout 120 "$BIN/train-gpt" --gpu-config --device cuda --steps 30 --eval-every 30 \
    --sample-chars 0 --checkpoint-every 0 --overwrite --data "$BIN/fortunes" --dtype "${run%%-*}" --profile 3 \
    --out "$OUT/gpu-config-$run" > "$OUT/gpu-config-$run.log" 2>&1 || status=1
done
# The step as a CUDA graph (nn::CapturedStep), replayed from step 2 on: no --profile (the profiler's
# events cannot be captured).
for run in float32 bf16; do
  DYTGRAD_CUDA_UNVERIFIED=1 timeout 120 "$BIN/train-gpt" --gpu-config --device cuda --steps 30 --eval-every 30 \
    --sample-chars 0 --checkpoint-every 0 --overwrite --data "$BIN/fortunes" --dtype "$run" --cuda-graph \
    --out "$OUT/gpu-config-$run-graph" > "$OUT/gpu-config-$run-graph.log" 2>&1 || status=1
done
# PyTorch's step of the same model and shape (tools/torch_gpt.py), float32 and bf16 autocast, eager
# and torch.compile (the vocabulary: the 114 symbols of the fortunes).
PYTHONUNBUFFERED=1 timeout 300 python3 tools/bench_torch_step.py --vocab 114 --compile --json "$OUT/torch-step.json" \
  > "$OUT/torch-step.log" 2>&1 || status=1
python3 - "$OUT" <<'PY' || status=1
import json, os, statistics, sys
out = sys.argv[1]
log = lambda name: [json.loads(l) for l in open(f"{out}/{name}/log.jsonl") if '"loss"' in l]
failed = []
def check(what, run_name, body):
    """Runs one comparison; a failure prints the end of that run's log and leaves the others."""
    try:
        body()
    except Exception as e:
        failed.append(what)
        print(f"FAILED {what}: {type(e).__name__} {e}")
        path = f"{out}/{run_name}.log"
        if os.path.exists(path):
            print("".join(open(path).readlines()[-5:]), end="")
def bf16_against_float32():
    a, b = log("gpt-plain"), log("gpt-bf16")
    worst = max(abs(x["loss"] - y["loss"]) / x["loss"] for x, y in zip(a, b))
    print(f"train-gpt --dtype bf16 against float32, 30 steps: largest relative loss difference {worst:.2e} (bound 5e-2)")
    assert len(a) == len(b) == 30 and worst < 5e-2
check("--dtype bf16 against float32", "gpt-bf16", bf16_against_float32)
def gpu_config(run):
    rows = log(f"gpu-config-{run}")
    tps = statistics.median(r["tokens_per_s"] for r in rows[5:])
    print(f"--gpu-config {run}: {tps:,.0f} tokens/s = {64 * 256 / tps * 1e3:.2f} ms a step (median of steps 6-30, "
          f"wall clock), loss at step 30 {rows[-1]['loss']:.4f}")
    # Steps 2-4 were profiled: the GPU's time in kernels a step against the wall clock's says how
    # much of a step the host (launches, allocation, the graph) costs.
    summary = open(f"{out}/gpu-config-{run}/profile.txt").read().splitlines()
    print(f"  --profile 3: {next(l for l in summary if 'in all' in l).strip()}; "
          f"{next((l.strip() for l in summary if 'strided_copy' in l), 'no copies')} (the busiest copy row)")
for run in ("float32", "bf16", "float32-unverified", "bf16-unverified"):
    check(f"--gpu-config {run}", f"gpu-config-{run}", lambda: gpu_config(run))
def cuda_graph(run):
    eager, graph = log(f"gpu-config-{run}-unverified"), log(f"gpu-config-{run}-graph")
    tps = statistics.median(r["tokens_per_s"] for r in graph[5:])
    same = sum(x["loss"] == y["loss"] for x, y in zip(eager, graph))
    nodes = next((l.strip() for l in open(f"{out}/gpu-config-{run}-graph.log") if l.startswith("CUDA graph")), "no graph")
    print(f"--gpu-config {run} --cuda-graph: {tps:,.0f} tokens/s = {64 * 256 / tps * 1e3:.2f} ms a step (median of "
          f"steps 6-30, wall clock); losses equal to the eager run's (unverified kernels on) at {same} of "
          f"{len(graph)} steps; {nodes}")
    assert len(graph) == 30 and same == 30
for run in ("float32", "bf16"):
    check(f"--gpu-config {run} --cuda-graph", f"gpu-config-{run}-graph", lambda: cuda_graph(run))
def torch_step():
    for r in json.load(open(f"{out}/torch-step.json"))["steps"]:
        print(f"PyTorch {r['name']}: {r['tokens_per_s']:,.0f} tokens/s = {r['ms']:.2f} ms a step (median, CUDA events)")
check("PyTorch's step", "torch-step", torch_step)
sys.exit(1 if failed else 0)
PY

step "benchmarks"
"$BIN/bench-kernels" --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log" || status=1
# The GPT-2-size step again with the kernels not yet run on a GPU switched on (and its rows as a
# CUDA graph, which bench-kernels always runs with them on).
DYTGRAD_CUDA_UNVERIFIED=1 "$BIN/bench-kernels" --only "GPT-2" --json "$OUT/bench-step-unverified.json" \
  > "$OUT/bench-step-unverified.log" 2>&1 || status=1
echo "with DYTGRAD_CUDA_UNVERIFIED=1:"; grep "GPT-2" "$OUT/bench-step-unverified.log" | tail -n 4
triton_json=()
if [ -f "$BIN/triton_dyt.py" ]; then
  OUT="$OUT" timeout 300 python3 "$BIN/triton_dyt.py" >"$OUT/triton.log" 2>&1 && triton_json=(--triton "$OUT/triton_dyt.json")
fi
step "dytgrad against PyTorch, same GPU, same run"
PYTHONUNBUFFERED=1 timeout 300 python3 tools/bench_torch.py --dytgrad "$OUT/bench.json" "${triton_json[@]}" \
  --json "$OUT/torch.json" 2>&1 | tee "$OUT/compare.log" || status=1
step "targets, met or missed (tools/gpu_targets.py)"
python3 tools/gpu_targets.py "$OUT" 2>&1 | tee "$OUT/targets.md" || status=1
exit $status
