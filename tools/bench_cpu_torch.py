#!/usr/bin/env python3
"""PyTorch on the CPU, on the rows and the GPT training step of dytgrad's bench-cpu, timed the same way
(warm-up, then the median of repeats) at the thread count given; writes the rows as JSON.

usage: bench_cpu_torch.py --threads N [--json out.json] [--repeats 15] [--step-repeats 8]
Works with Debian's PyTorch 1.13 (python3-torch; attention by the math path only) and PyTorch 2.x
(also scaled_dot_product_attention). tools/bench_cpu.sh runs it next to bench-cpu.
"""
import argparse, json, math, platform, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F

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
has_sdpa = hasattr(F, "scaled_dot_product_attention")


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


class DyT(nn.Module):
    def __init__(self, c, alpha0=4.0):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), alpha0))
        self.gamma, self.beta = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

    def forward(self, x):
        return self.gamma * torch.tanh(self.alpha * x) + self.beta


def rms_norm(x, g, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def math_attention(q, k, v):  # causal, the scores materialised (what PyTorch 1.13 offers)
    t = q.shape[-2]
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
    return torch.softmax(s.masked_fill(mask, float("-inf")), -1) @ v


def attention(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True) if has_sdpa else math_attention(q, k, v)


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


# The GPT of bench-cpu's step: dytgrad's GPT with DyT (alpha0 4), a learnable sqrt(width) scalar on the
# token embeddings, tanh GELU, tied head; AdamW (0.9, 0.95), clipping at 1.
class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h, self.n1, self.n2 = h, DyT(c), DyT(c)
        self.qkv, self.proj = nn.Linear(c, 3 * c), nn.Linear(c, c)
        self.up, self.down = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = (z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in self.qkv(self.n1(x)).split(c, 2))
        x = x + self.proj(attention(q, k, v).transpose(1, 2).reshape(b, t, c))
        return x + self.down(F.gelu(self.up(self.n2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, t, c, layers, h):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, c), nn.Embedding(t, c)
        self.scale = nn.Parameter(torch.full((1,), math.sqrt(c)))
        self.blocks = nn.ModuleList(Block(c, h) for _ in range(layers))
        self.final = DyT(c)

    def forward(self, idx, targets):
        x = self.tok(idx) * self.scale + self.pos(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        logits = self.final(x) @ self.tok.weight.t()
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


V, T, C, L, H, B = 98, 128, 192, 4, 4, 32
model = GPT(V, T, C, L, H)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
tokens = torch.randint(0, V, (B, T + 1))
x, y = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()


def step():
    opt.zero_grad(set_to_none=True)
    model(x, y).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


ms = median_ms(step, warmup=2, repeats=args.step_repeats)
tokens_per_s = B * T / ms * 1e3
print(f"\nGPT training step (V{V} T{T} C{C} L{L} H{H} B{B}, DyT): {ms:.1f} ms, {tokens_per_s:.0f} tokens/s")
out = {"engine": f"PyTorch {torch.__version__}", "threads": args.threads, "cpu": platform.processor(),
       "attention": "sdpa" if has_sdpa else "math", "rows": rows,
       "step": {"shape": f"V{V} T{T} C{C} L{L} H{H} B{B}", "ms": ms, "tokens_per_s": tokens_per_s}}
if args.json:
    json.dump(out, open(args.json, "w"), indent=1)
