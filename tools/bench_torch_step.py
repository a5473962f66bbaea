#!/usr/bin/env python3
"""PyTorch's training step of dytgrad's GPT (tools/torch_gpt.py) on the GPU, to set next to
`train-gpt --gpu-config` in the same run: float32 (TF32 matmuls, as dytgrad's) and bf16 autocast,
eager and, with --compile, torch.compile. Each step is timed with CUDA events after warm-up steps;
the median is printed as ms a step and tokens/s, and written as JSON with --json.

usage: bench_torch_step.py [--vocab 114] [--width 384] [--layers 6] [--heads 6] [--block-size 256]
                           [--batch 64] [--steps 20] [--compile] [--device cuda] [--json out.json]
tools/gpu_session.sh runs it with train-gpt --gpu-config's shape (the vocabulary of its fortunes).
"""
import argparse, json, statistics, time

import torch

from torch_gpt import training_step

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--vocab", type=int, default=114)
p.add_argument("--width", type=int, default=384)
p.add_argument("--layers", type=int, default=6)
p.add_argument("--heads", type=int, default=6)
p.add_argument("--block-size", type=int, default=256)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--steps", type=int, default=20, help="timed steps (after 5 warm-up steps)")
p.add_argument("--compile", action="store_true", help="also time torch.compile's step")
p.add_argument("--device", default="cuda", help="cuda, or cpu to try the script")
p.add_argument("--json", help="write the results here")
args = p.parse_args()
cuda = args.device.startswith("cuda")
if cuda:
    torch.backends.cuda.matmul.allow_tf32 = True  # as dytgrad's float32 matmuls
    torch.backends.cudnn.allow_tf32 = True


def median_step_ms(step):
    for _ in range(5):
        step()
    times = []
    for _ in range(args.steps):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


shape = f"V{args.vocab} T{args.block_size} C{args.width} L{args.layers} H{args.heads} B{args.batch}"
tokens = args.batch * args.block_size
print(f"PyTorch {torch.__version__}, {torch.cuda.get_device_name() if cuda else 'CPU'}: GPT training step {shape}, DyT, AdamW, clipping")
results = []
for compiled in (False, True) if args.compile else (False,):
    for bf16 in (False, True):
        torch.manual_seed(0)
        step = training_step(args.vocab, args.block_size, args.width, args.layers, args.heads, args.batch,
                             args.device, bf16, compiled)
        ms = median_step_ms(step)
        name = f"{'bf16 autocast' if bf16 else 'float32'} {'torch.compile' if compiled else 'eager'}"
        results.append({"name": name, "ms": ms, "tokens_per_s": tokens / ms * 1e3})
        print(f"  {name:<28} {ms:8.2f} ms a step  {tokens / ms * 1e3:12,.0f} tokens/s", flush=True)
if args.json:
    json.dump({"engine": f"PyTorch {torch.__version__}", "shape": shape, "steps": results}, open(args.json, "w"), indent=1)
