#!/usr/bin/env python3
"""PyTorch on the shapes of tools/bench_kernels, timed the same way (warm-up, 256 MiB L2 flush before
every repeat, CUDA events, median), then a side-by-side table with dytgrad's JSON.

usage: bench_torch.py --dytgrad bench.json [--triton triton_dyt.json] [--json torch.json]
Run it on the same GPU in the same session as bench-kernels: absolute times move between machines.
"""
import argparse, json, sys

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--dytgrad", help="JSON written by bench-kernels --json")
p.add_argument("--triton", help="JSON written by the Triton DyT anchor (optional)")
p.add_argument("--json", help="write PyTorch's rows here")
p.add_argument("--repeats", type=int, default=30)
args = p.parse_args()

torch.backends.cuda.matmul.allow_tf32 = True
dev = "cuda"
flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)


def median_ms(fn, warmup=5):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for i in range(args.repeats):
        flush.fill_(i & 0xFF)
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def dyt_eager(x, a, g, b):
    return torch.tanh(a * x) * g + b


rows = {}
for n, c in ((8192, 4096), (16384, 768)):
    shape = f"{n}x{c}"
    x = torch.randn(n, c, device=dev); dy = torch.randn(n, c, device=dev)
    xg = x.clone().requires_grad_()
    a = torch.full((1,), 0.5, device=dev, requires_grad=True)
    g = torch.randn(c, device=dev, requires_grad=True); b = torch.randn(c, device=dev, requires_grad=True)
    def fb(f):
        def run():
            f().backward(dy)
        return run
    with torch.no_grad():
        rows[("dyt forward", shape)] = median_ms(lambda: dyt_eager(x, a, g, b))
        r = torch.randn(n, c, device=dev)
        rows[("add + dyt forward", shape)] = median_ms(lambda: dyt_eager(x + r, a, g, b))
        del r
        rows[("layer_norm forward", shape)] = median_ms(lambda: F.layer_norm(x, (c,), g, b))
        rows[("rms_norm forward", shape)] = median_ms(lambda: F.rms_norm(x, (c,), g, 1e-6))
    rows[("dyt forward+backward", shape)] = median_ms(fb(lambda: dyt_eager(xg, a, g, b)))
    rows[("layer_norm forward+backward", shape)] = median_ms(fb(lambda: F.layer_norm(xg, (c,), g, b)))
    rows[("rms_norm forward+backward", shape)] = median_ms(fb(lambda: F.rms_norm(xg, (c,), g, 1e-6)))
    del x, dy, xg

x = torch.randn(98304, 1024, device=dev); dy = torch.randn_like(x); xg = x.clone().requires_grad_()
with torch.no_grad():
    rows[("softmax forward", "98304x1024")] = median_ms(lambda: torch.softmax(x, -1))
rows[("softmax forward+backward", "98304x1024")] = median_ms(lambda: torch.softmax(xg, -1).backward(dy))
del x, dy, xg

logits = torch.randn(16384, 50304, device=dev); t = torch.randint(0, 50304, (16384,), device=dev)
lg = logits.clone().requires_grad_()
with torch.no_grad():
    rows[("cross_entropy forward", "16384x50304")] = median_ms(lambda: F.cross_entropy(logits, t))
rows[("cross_entropy forward+backward", "16384x50304")] = median_ms(lambda: F.cross_entropy(lg, t).backward())
del logits, lg

q, k, v, do = (torch.randn(8, 12, 1024, 64, device=dev) for _ in range(4))
qg, kg, vg = (z.clone().requires_grad_() for z in (q, k, v))
with torch.no_grad():
    rows[("attention forward", "B8 H12 T1024 D64")] = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
rows[("attention forward+backward", "B8 H12 T1024 D64")] = median_ms(
    lambda: F.scaled_dot_product_attention(qg, kg, vg, is_causal=True).backward(do))
# dytgrad's attention on tensor cores (batched GEMMs in TF32) against the same SDPA calls (float32)
for name in ("attention forward", "attention forward+backward"):
    rows[(name + ", GEMMs TF32", "B8 H12 T1024 D64")] = rows[(name, "B8 H12 T1024 D64")]
q16, k16, v16, do16 = (z.bfloat16() for z in (q, k, v, do))
q16g, k16g, v16g = (z.clone().requires_grad_() for z in (q16, k16, v16))
with torch.no_grad():
    rows[("attention forward bf16, GEMMs", "B8 H12 T1024 D64")] = median_ms(
        lambda: F.scaled_dot_product_attention(q16, k16, v16, is_causal=True))
rows[("attention forward+backward bf16, GEMMs", "B8 H12 T1024 D64")] = median_ms(
    lambda: F.scaled_dot_product_attention(q16g, k16g, v16g, is_causal=True).backward(do16))
del q16, k16, v16, do16, q16g, k16g, v16g

x = torch.randn(8192, 768, device=dev); w = torch.randn(3072, 768, device=dev); dy = torch.randn(8192, 3072, device=dev)
shape = "8192x768 @ 768x3072"
x16, w16, dy16 = x.bfloat16(), w.bfloat16(), dy.bfloat16()
x16g, w16g = x16.clone().requires_grad_(), w16.clone().requires_grad_()
with torch.no_grad():
    rows[("matmul forward tf32", shape)] = median_ms(lambda: x @ w.t())
    bias = torch.randn(3072, device=dev)
    rows[("linear forward tf32, bias epilogue", shape)] = median_ms(lambda: F.linear(x, w, bias))
    rows[("linear_gelu forward tf32, epilogue", shape)] = median_ms(lambda: F.gelu(F.linear(x, w, bias), approximate="tanh"))
    rows[("matmul forward bf16", shape)] = median_ms(lambda: x16 @ w16.t())
rows[("matmul forward+backward bf16", shape)] = median_ms(lambda: (x16g @ w16g.t()).backward(dy16))
del x, w, bias, dy, x16, w16, dy16, x16g, w16g
for n, c in ((8192, 4096), (16384, 768)):
    h = torch.randn(n, c, device=dev).bfloat16()
    a16 = torch.full((1,), 0.5, device=dev).bfloat16()
    g16, b16 = torch.randn(c, device=dev).bfloat16(), torch.randn(c, device=dev).bfloat16()
    hg, dh = h.clone().requires_grad_(), torch.randn(n, c, device=dev).bfloat16()
    a16g, g16g, b16g = (z.clone().requires_grad_() for z in (a16, g16, b16))
    with torch.no_grad():
        rows[("dyt forward bf16", f"{n}x{c}")] = median_ms(lambda: dyt_eager(h, a16, g16, b16))
    rows[("dyt forward+backward bf16", f"{n}x{c}")] = median_ms(lambda: dyt_eager(hg, a16g, g16g, b16g).backward(dh))
    del h, hg, dh

# softmax and cross_entropy of bfloat16 inputs under autocast (both computed in float32 there)
x16 = torch.randn(98304, 1024, device=dev).bfloat16(); dy = torch.randn(98304, 1024, device=dev)
x16g = x16.clone().requires_grad_()
with torch.autocast("cuda", torch.bfloat16):
    with torch.no_grad():
        rows[("softmax forward bf16", "98304x1024")] = median_ms(lambda: torch.softmax(x16, -1))
    rows[("softmax forward+backward bf16", "98304x1024")] = median_ms(lambda: torch.softmax(x16g, -1).backward(dy))
del x16, x16g, dy
l16 = torch.randn(16384, 50304, device=dev).bfloat16(); t = torch.randint(0, 50304, (16384,), device=dev)
l16g = l16.clone().requires_grad_()
with torch.autocast("cuda", torch.bfloat16):
    with torch.no_grad():
        rows[("cross_entropy forward bf16", "16384x50304")] = median_ms(lambda: F.cross_entropy(l16, t))
    rows[("cross_entropy forward+backward bf16", "16384x50304")] = median_ms(lambda: F.cross_entropy(l16g, t).backward())
del l16, l16g

# The GPT-2-size training step of the same model (tools/torch_gpt.py: DyT, tied head, AdamW,
# clipping at 1), eager: float32 with TF32 matmuls, and bf16 autocast.
from torch_gpt import training_step
for bf16 in (False, True):
    torch.manual_seed(0)
    try:  # an error here (out of memory) leaves the other rows
        step = training_step(50304, 1024, 768, 12, 12, 8, dev, bf16)
        rows[(f"GPT-2-size step {'bf16' if bf16 else 'float32'}", "V50304 T1024 C768 L12 H12 B8")] = median_ms(step)
        del step
    except RuntimeError as e:
        print(f"GPT-2-size step {'bf16' if bf16 else 'float32'}: {e}", file=sys.stderr)
    torch.cuda.empty_cache()

if args.json:  # every row, the GPT-2-size steps included
    json.dump({"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0),
               "allow_tf32": torch.backends.cuda.matmul.allow_tf32,
               "rows": [{"name": n, "shape": s, "ms": ms} for (n, s), ms in rows.items()]}, open(args.json, "w"), indent=1)

ours = {}
if args.dytgrad:
    d = json.load(open(args.dytgrad))
    ours = {(r["name"], r["shape"]): r for r in d["rows"]}
    print(f"dytgrad: {d['device']}, copy {d['copy_GBps']:.0f} GB/s, cuBLAS TF32 {d['tf32_TFLOPs']:.0f} TFLOP/s, "
          f"fp32 {d['fp32_TFLOPs']:.1f} TFLOP/s, bf16 {d.get('bf16_TFLOPs', 0):.0f} TFLOP/s")
triton = json.load(open(args.triton)) if args.triton else {}
print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(0)}")
print(f"\n| kernel | shape | dytgrad ms | floor % | PyTorch ms | PyTorch / dytgrad |")
print("|---|---|---:|---:|---:|---:|")
for (name, shape), ms in rows.items():
    o = ours.get((name, shape))
    if o:
        print(f"| {name} | {shape} | {o['ms']:.4f} | {100 * o['floor_ms'] / o['ms']:.0f}% | {ms:.4f} | {ms / o['ms']:.2f}x |")
    else:
        print(f"| {name} | {shape} | - | - | {ms:.4f} | - |")
# dytgrad's rows PyTorch has no twin of; a CUDA graph's step set against PyTorch's eager step
for (name, shape), o in ours.items():
    if (name, shape) in rows:
        continue
    twin = rows.get((name.replace(", CUDA graph", ""), shape))
    versus = f"{twin:.4f} (eager) | {twin / o['ms']:.2f}x" if twin and "CUDA graph" in name else "- | -"
    print(f"| {name} | {shape} | {o['ms']:.4f} | {100 * o['floor_ms'] / o['ms']:.0f}% | {versus} |")
for key, r in triton.items():
    if key.startswith("triton_dyt_fp32"):
        print(f"| Triton DyT (anchor) fwd / fwd+bwd | {key.split('_')[-1]} | | | {r['fwd_ms']} / {r['fwdbwd_ms']} | |")
