#!/usr/bin/env python3
"""Side-by-side table of bench-cpu and bench_cpu_torch.py results (JSON files), grouped by thread count:
each kernel's time for every engine, dytgrad's floor ratio, and PyTorch's time over dytgrad's
(above 1: dytgrad is faster); then the training step in tokens/s, with the same ratios.

usage: compare_cpu_bench.py FILE.json [FILE.json ...]
"""
import argparse, json, sys

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("files", nargs="+")
args = p.parse_args()

runs = []
for path in args.files:
    try:
        runs.append(json.load(open(path)))
    except (OSError, ValueError) as e:
        sys.exit(f"compare_cpu_bench.py: cannot read {path}: {e}")

for threads in sorted({r["threads"] for r in runs}):
    group = [r for r in runs if r["threads"] == threads]
    ours = [r for r in group if r["engine"] == "dytgrad"]
    peers = [r for r in group if r["engine"] != "dytgrad"]
    if not ours:
        continue
    ours = ours[0]
    print(f"\n## {threads} thread{'s' if threads > 1 else ''}: {ours['cpu']}, copy {ours['copy_GBps']:.1f} GB/s, "
          f"sgemm {ours['sgemm_GFLOPs']:.0f} GFLOP/s\n")
    by_name = {row["name"]: row for row in ours["rows"]}
    names = list(by_name)
    for peer in peers:  # PyTorch-only rows (the math path of attention) go after dytgrad's row of the same op
        for row in peer["rows"]:
            if row["name"] not in names:
                base = row["name"].replace(" (math path)", "")
                names.insert(names.index(base) + 1 if base in names else len(names), row["name"])
    header = "| kernel | shape | dytgrad ms | floor/ms |" + "".join(f" {p['engine']} ms | ratio |" for p in peers)
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name in names:
        mine = by_name.get(name.replace(" (math path)", ""))
        if mine is None:
            continue
        line = f"| {name} | {mine['shape']} | {mine['ms']:.3f} | {100 * mine['floor_ms'] / mine['ms']:.0f}% |"
        for peer in peers:
            theirs = {r["name"]: r for r in peer["rows"]}.get(name)
            line += f" {theirs['ms']:.3f} | {theirs['ms'] / mine['ms']:.2f}x |" if theirs else " - | - |"
        print(line)
    if "step" in ours:
        s = ours["step"]
        print(f"\nGPT training step {s['shape']} ({s['gflop']:.1f} GFLOP): dytgrad {s['ms']:.1f} ms, "
              f"{s['tokens_per_s']:.0f} tokens/s, {100 * s['utilisation']:.0f}% of sgemm's rate")
        for peer in peers:
            if "step" in peer:
                t = peer["step"]
                print(f"  {peer['engine']}: {t['ms']:.1f} ms, {t['tokens_per_s']:.0f} tokens/s; "
                      f"dytgrad / {peer['engine']} = {s['tokens_per_s'] / t['tokens_per_s']:.2f}x")
