#!/usr/bin/env python3
"""The GPU targets, met or missed, from the files one run of tools/gpu_session.sh leaves in its
output folder: a markdown table, each row the target, what was measured and by how much it is met
or missed. A figure the run did not produce reads "not measured" (and the row is not met).

usage: gpu_targets.py OUT        (OUT: gpu_session.sh's $OUT; it calls this last)

Targets (docs/BENCHMARKS.md keeps the figures):
- the --gpu-config step (width 384, 6 layers, context 256, batch 64) at most PyTorch eager's time,
  then torch.compile's, float32 and bf16; dytgrad's time is the wall clock's (median of steps 6-30),
  PyTorch's from CUDA events around each step;
- no single generic kernel (sum_dim, binary, unary) above 10% of the step's GPU time (--profile 3);
- causal attention forward+backward (B8 H12 T1024 D64) no slower than PyTorch's SDPA;
- DyT forward on bfloat16 at >= 85% of copy bandwidth;
- the GPT-2-size step in bf16 at most PyTorch eager autocast's time;
- --gpu-config in bf16 within 1% of float32's validation loss at the same step.
"""
import json, os, re, statistics, sys

if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0 if len(sys.argv) == 2 else 2)
out = sys.argv[1]
TOKENS_PER_STEP = 64 * 256  # --gpu-config: batch 64, context 256
GENERIC = ("sum_dim", "binary", "unary")
rows = []  # (target, measured, verdict)


def load_json(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None


def run_log(run):
    """The --gpu-config run's steps (log.jsonl), or None."""
    path = os.path.join(out, f"gpu-config-{run}", "log.jsonl")
    if not os.path.exists(path):
        return None
    steps = [json.loads(line) for line in open(path) if '"loss"' in line]
    return steps if len(steps) >= 6 else None


def step_ms(run):
    steps = run_log(run)
    return TOKENS_PER_STEP / statistics.median(s["tokens_per_s"] for s in steps[5:]) * 1e3 if steps else None


def verdict(ours, theirs):
    """Ours against a bound (lower is better): met, or missed by how much."""
    if ours is None or theirs is None:
        return "not measured"
    return f"met ({theirs / ours:.2f}x)" if ours <= theirs else f"**missed** by {100 * (ours / theirs - 1):.0f}%"


# 1. --gpu-config step against PyTorch's, float32 and bf16
torch_step = {s["name"]: s["ms"] for s in (load_json("torch-step.json") or {"steps": []})["steps"]}
for dtype, torch_name in (("float32", "float32"), ("bf16", "bf16 autocast")):
    for run, label in ((dtype, "default kernels"), (f"{dtype}-unverified", "with the kernels first run here"),
                       (f"{dtype}-graph", "as a CUDA graph")):
        ours = step_ms(run)
        for peer in ("eager", "torch.compile"):
            theirs = torch_step.get(f"{torch_name} {peer}")
            measured = (f"{ours:.2f} ms against {theirs:.2f}" if ours and theirs else "not measured")
            rows.append((f"--gpu-config {dtype} step ({label}) <= PyTorch {peer}", measured, verdict(ours, theirs)))

# 2. the largest generic kernel's share of the step's GPU time
line_re = re.compile(r"^\s*([\d.]+)%\s.*\s(forward|backward|communication|optimizer)\s+(.+?)\s*$")
for run in ("float32", "float32-unverified", "bf16", "bf16-unverified"):
    path = os.path.join(out, f"gpu-config-{run}", "profile.txt")
    if not os.path.exists(path):
        rows.append((f"no generic kernel above 10% ({run})", "not measured", "not measured"))
        continue
    shares = {}
    for line in open(path):
        m = line_re.match(line)
        if m:
            kernel = m.group(3).split(" / ")[-1].split(" (")[0]
            shares[kernel] = shares.get(kernel, 0.0) + float(m.group(1))
    kernel, share = max(((k, shares.get(k, 0.0)) for k in GENERIC), key=lambda ks: ks[1])
    rows.append((f"no generic kernel above 10% ({run})", f"largest: {kernel} {share:.1f}%",
                 "met" if share <= 10 else f"**missed** by {share - 10:.1f} points"))

# 3-5. rows of bench-kernels against PyTorch's on the same shapes
bench_rows = lambda name: {(r["name"], r["shape"]): r for r in (load_json(name) or {"rows": []})["rows"]}
ours, ours_unverified = bench_rows("bench.json"), bench_rows("bench-step-unverified.json")
theirs_json = load_json("torch.json") or {"rows": []}
theirs = {(r["name"], r["shape"]): r["ms"] for r in theirs_json["rows"]}
tf32 = "TF32 allowed" if theirs_json.get("allow_tf32") else "TF32 off"
attention = "B8 H12 T1024 D64"
sdpa = theirs.get(("attention forward+backward", attention))
for name, how in (("attention forward+backward", "flash kernels, strict fp32"),
                  ("attention forward+backward, GEMMs TF32", "batched GEMMs, TF32")):
    r = ours.get((name, attention))
    measured = f"{r['ms']:.3f} ms ({how}) against SDPA float32 {sdpa:.3f} ms ({tf32})" if r and sdpa else "not measured"
    rows.append((f"attention fwd+bwd no slower than SDPA ({how})", measured, verdict(r and r["ms"], sdpa)))
for shape in ("8192x4096", "16384x768"):
    r = ours.get(("dyt forward bf16", shape))
    share = 100 * r["floor_ms"] / r["ms"] if r else None
    rows.append((f"DyT forward bf16 >= 85% of copy bandwidth ({shape})",
                 f"{share:.0f}% ({r['ms']:.4f} ms)" if r else "not measured",
                 "not measured" if share is None else "met" if share >= 85 else f"**missed** by {85 - share:.0f} points"))
gpt2 = "V50304 T1024 C768 L12 H12 B8"
eager_bf16 = theirs.get(("GPT-2-size step bf16", gpt2))
for label, r in (("default kernels", ours.get(("GPT-2-size step bf16", gpt2))),
                 ("with the kernels first run here", ours_unverified.get(("GPT-2-size step bf16", gpt2))),
                 ("as a CUDA graph", ours.get(("GPT-2-size step bf16, CUDA graph", gpt2)))):
    measured = f"{r['ms']:.2f} ms against {eager_bf16:.2f}" if r and eager_bf16 else "not measured"
    rows.append((f"GPT-2-size step bf16 ({label}) <= PyTorch eager autocast", measured, verdict(r and r["ms"], eager_bf16)))

# 6. bf16's validation loss against float32's, the same steps
f32, bf16 = run_log("float32"), run_log("bf16")
val = lambda steps: next((s["val_loss"] for s in reversed(steps) if "val_loss" in s), None) if steps else None
a, b = val(f32), val(bf16)
gap = abs(b - a) / a * 100 if a and b else None
rows.append(("--gpu-config bf16 validation loss within 1% of float32's",
             f"{b:.4f} against {a:.4f} ({gap:.2f}% apart)" if gap is not None else "not measured",
             "not measured" if gap is None else "met" if gap <= 1 else f"**missed** by {gap - 1:.2f} points"))

print("\n| target | measured | |")
print("|---|---|---|")
for target, measured, v in rows:
    print(f"| {target} | {measured} | {v} |")
