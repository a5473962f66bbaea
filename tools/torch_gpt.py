"""dytgrad's GPT in PyTorch, for timing the training step against dytgrad's on the same machine:
DyT norms, a learnable sqrt(width) scalar on the token embeddings, tanh GELU, the head tied to the
token embeddings; AdamW (0.9, 0.95), clipping at 1. Used by tools/bench_cpu_torch.py (CPU) and
tools/bench_torch_step.py (GPU). Works with PyTorch 1.13 (attention by the math path) and 2.x
(scaled_dot_product_attention).
"""
import contextlib, math

import torch
import torch.nn as nn
import torch.nn.functional as F

has_sdpa = hasattr(F, "scaled_dot_product_attention")


class DyT(nn.Module):
    def __init__(self, c, alpha0=4.0):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), alpha0))
        self.gamma, self.beta = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

    def forward(self, x):
        return self.gamma * torch.tanh(self.alpha * x) + self.beta


def math_attention(q, k, v):  # causal, the scores materialised (what PyTorch 1.13 offers)
    t = q.shape[-2]
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=q.device), 1)
    return torch.softmax(s.masked_fill(mask, float("-inf")), -1) @ v


def attention(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True) if has_sdpa else math_attention(q, k, v)


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
        x = self.tok(idx) * self.scale + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        logits = self.final(x) @ self.tok.weight.t()
        return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())


def training_step(vocab, t, c, layers, h, batch, device="cpu", bf16=False, compile_model=False):
    """One AdamW step of the GPT on a fixed random batch, as a function to time (bf16: autocast)."""
    model = GPT(vocab, t, c, layers, h).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    forward = torch.compile(model) if compile_model else model
    tokens = torch.randint(0, vocab, (batch, t + 1), device=device)
    x, y = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            loss = forward(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step
