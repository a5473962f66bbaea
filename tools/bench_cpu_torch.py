#!/usr/bin/env python3
"""PyTorch on the CPU, on the rows and the GPT training step of dytgrad's bench-cpu, timed the same way
(warm-up, then the median of repeats) at the thread count given; writes the rows as JSON.

usage: bench_cpu_torch.py --threads N [--json out.json] [--repeats 15] [--step-repeats 8]
Works with Debian's PyTorch 1.13 (python3-torch; attention by the math path only) and PyTorch 2.x
(also scaled_dot_product_attention). tools/bench_cpu.sh runs it next to bench-cpu.
"""
import argparse, json, platform, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_gpt import DyT, attention, has_sdpa, math_attention, training_step

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--threads", type=int, required=True)
p.add_argument("--json", help="write the results here")
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--repeats", type=int, default=15)
p.add_argument("--step-repeats", type=int, default=8)
p.add_argument("--no-kernels", action="store_true", help="only the training step")
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


def median_ms(fn, warmup=None, repeats=None):
    for _ in range(args.warmup if warmup is None else warmup):
        fn()
    times = []
    for _ in range(args.repeats if repeats is None else repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


rows = []


def row(name, shape, fn):
    ms = median_ms(fn)
    rows.append({"name": name, "shape": shape, "ms": ms})
    print(f"  {name:<30} {shape:<18} {ms:10.3f} ms", flush=True)


def fwd_bwd(forward, dy):
    def run():
        forward().backward(dy)
    return run


def rms_norm(x, g, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


if not args.no_kernels:
    n, c = 4096, 768
    x, dy = torch.randn(n, c), torch.randn(n, c)
    xg = x.clone().requires_grad_()
    dyt, ln = DyT(c, 0.5), nn.LayerNorm(c)
    g = torch.randn(c, requires_grad=True)
    with torch.no_grad():
        row("dyt forward", "4096x768", lambda: dyt(x))
        res = torch.randn(n, c)
        row("add + dyt forward", "4096x768", lambda: dyt(x + res))
        row("layer_norm forward", "4096x768", lambda: ln(x))
        row("rms_norm forward", "4096x768", lambda: rms_norm(x, g))
        row("gelu forward", "4096x768", lambda: F.gelu(x, approximate="tanh"))
    row("dyt forward+backward", "4096x768", fwd_bwd(lambda: dyt(xg), dy))
    row("layer_norm forward+backward", "4096x768", fwd_bwd(lambda: ln(xg), dy))
    row("rms_norm forward+backward", "4096x768", fwd_bwd(lambda: rms_norm(xg, g), dy))
    row("gelu forward+backward", "4096x768", fwd_bwd(lambda: F.gelu(xg, approximate="tanh"), dy))
    s, ds = torch.randn(16384, 128), torch.randn(16384, 128)
    sg = s.clone().requires_grad_()
    with torch.no_grad():
        row("softmax forward", "16384x128", lambda: torch.softmax(s, -1))
    row("softmax forward+backward", "16384x128", fwd_bwd(lambda: torch.softmax(sg, -1), ds))
    logits, targets = torch.randn(4096, 8192), torch.randint(0, 8192, (4096,))
    lg = logits.clone().requires_grad_()
    with torch.no_grad():
        row("cross_entropy forward", "4096x8192", lambda: F.cross_entropy(logits, targets))
    row("cross_entropy forward+backward", "4096x8192", fwd_bwd(lambda: F.cross_entropy(lg, targets), None))
    q, k, v, do = (torch.randn(8, 4, 128, 48) for _ in range(4))
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
    with torch.no_grad():
        row("attention forward (math path)", "B8 H4 T128 D48", lambda: math_attention(q, k, v))
        if has_sdpa:
            row("attention forward", "B8 H4 T128 D48", lambda: attention(q, k, v))
    row("attention forward+backward (math path)", "B8 H4 T128 D48", fwd_bwd(lambda: math_attention(qg, kg, vg), do))
    if has_sdpa:
        row("attention forward+backward", "B8 H4 T128 D48", fwd_bwd(lambda: attention(qg, kg, vg), do))
    a, w = torch.randn(4096, 192), torch.randn(192, 768)
    row("matmul", "4096x192 @ 192x768", lambda: a @ w)


# The GPT of bench-cpu's step (tools/torch_gpt.py).
V, T, C, L, H, B = 98, 128, 192, 4, 4, 32
step = training_step(V, T, C, L, H, B)


ms = median_ms(step, warmup=2, repeats=args.step_repeats)
tokens_per_s = B * T / ms * 1e3
print(f"\nGPT training step (V{V} T{T} C{C} L{L} H{H} B{B}, DyT): {ms:.1f} ms, {tokens_per_s:.0f} tokens/s")
out = {"engine": f"PyTorch {torch.__version__}", "threads": args.threads, "cpu": platform.processor(),
       "attention": "sdpa" if has_sdpa else "math", "rows": rows,
       "step": {"shape": f"V{V} T{T} C{C} L{L} H{H} B{B}", "ms": ms, "tokens_per_s": tokens_per_s}}
if args.json:
    json.dump(out, open(args.json, "w"), indent=1)
