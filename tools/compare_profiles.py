#!/usr/bin/env python3
"""Prints profiler summaries side by side: kernel time per step for each run, the norm layers' share.

usage: tools/compare_profiles.py RUN_DIR [RUN_DIR ...] [--rows N]
Each RUN_DIR holds the profile.txt that `train-gpt --profile N --out RUN_DIR` writes (the
nvprof-style summary of core/profiler); runs are labelled by their folder names. The norm layers
are the kernels add_dyt_*, dyt_*, layer_norm_* and rms_norm_*. Python's standard library only.
tools/profile_norms.sh runs train-gpt with DyT and with LayerNorm and calls this.
"""
import argparse
import pathlib
import re
import sys

# time%, total ms, [ms/step,] calls, avg, min, max, [rate,] phase, op / kernel
ROW = re.compile(r"^\s*[\d.]+%\s+(?P<total>[\d.]+)\s+(?:[\d.]+\s+)?(?P<calls>\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+"
                 r"(?:[\d.]+ [GT][BF]/s\s+)?(?P<phase>forward|backward|communication|optimizer)\s+(?P<kernel>.+?)\s*$")
HEADER = re.compile(r"^profile of (\d+) steps?\b")
NORM = re.compile(r"^(add_dyt|dyt|layer_norm|rms_norm)_")  # add_dyt: DyT fused with the residual add


def read_profile(folder):
    """(steps, {(kernel, phase): total ms}) from folder/profile.txt; exits with a message if unreadable."""
    path = pathlib.Path(folder) / "profile.txt"
    if not path.exists():
        sys.exit(f"compare_profiles: no {path} (run train-gpt --profile N --out {folder} first)")
    steps, rows = None, {}
    for line in path.read_text().splitlines():
        if (m := HEADER.match(line)):
            steps = int(m.group(1))
        elif (m := ROW.match(line)):
            rows[(m["kernel"], m["phase"])] = float(m["total"])
    if not steps or not rows:
        sys.exit(f"compare_profiles: {path} holds no profiler summary")
    return steps, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="folders with a profile.txt")
    parser.add_argument("--rows", type=int, default=20, help="kernels shown, the slowest first (default 20)")
    args = parser.parse_args()
    labels = [pathlib.Path(r).name for r in args.runs]
    per_step = []  # one {(kernel, phase): ms per step} per run
    for run in args.runs:
        steps, rows = read_profile(run)
        per_step.append({key: ms / steps for key, ms in rows.items()})

    keys = sorted({k for p in per_step for k in p}, key=lambda k: -max(p.get(k, 0.0) for p in per_step))
    width = max(12, *(len(label) for label in labels))
    cell = lambda value: f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"
    name_width = max([34] + [len(kernel) for kernel, _ in keys[:args.rows]])
    print(f"{'op / kernel':<{name_width}} {'phase':<10} " + " ".join(f"{label:>{width}}" for label in labels)
          + "   (ms per step)")
    for kernel, phase in keys[:args.rows]:
        print(f"{kernel:<{name_width}} {phase:<10} " + " ".join(cell(p.get((kernel, phase))) for p in per_step))
    if len(keys) > args.rows:
        print(f"... {len(keys) - args.rows} more rows (--rows)")
    totals = [sum(p.values()) for p in per_step]
    norms = [sum(ms for (kernel, _), ms in p.items() if NORM.match(kernel)) for p in per_step]
    print(f"{'norm layers (dyt_*, layer_norm_*, rms_norm_*)':<45} "
          + " ".join(f"{f'{n:.3f} ({100 * n / t:.1f}%)':>{width + 6}}" for n, t in zip(norms, totals)))
    print(f"{'all kernels (the step)':<45} " + " ".join(f"{t:>{width + 6}.3f}" for t in totals))


if __name__ == "__main__":
    main()
