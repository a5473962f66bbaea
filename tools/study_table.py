#!/usr/bin/env python3
"""Prints the study's tables (markdown) from the runs of tools/study.sh.

usage: tools/study_table.py [STUDY_DIR]   (default runs/study)
Each run folder holds log.jsonl (one JSON object per step) and output.txt (the program's output,
whose 'final:' line says the run finished). Python's standard library only.
"""
import json
import pathlib
import sys


def read_log(folder):
    path = folder / "log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def finished(folder):
    out = folder / "output.txt"
    return out.exists() and any(line.startswith("final:") for line in out.read_text().splitlines())


def last_with(rows, key):
    marked = [r for r in rows if key in r]
    return marked[-1] if marked else None


def main():
    study = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/study")
    norms = ["dyt", "layernorm", "rmsnorm", "none"]

    print("| GPT, fortunes | steps | final validation loss | vs LayerNorm | tokens/s (median) | finished |")
    print("|---|---|---|---|---|---|")
    reference = last_with(read_log(study / "gpt-layernorm"), "val_loss")
    for norm in norms:
        rows = read_log(study / f"gpt-{norm}")
        last = last_with(rows, "val_loss")
        if not last:
            print(f"| {norm} | - | not run | | | |")
            continue
        speed = sorted(r["tokens_per_s"] for r in rows)[len(rows) // 2]
        gap = f"{100 * (last['val_loss'] / reference['val_loss'] - 1):+.1f}%" if reference else ""
        print(f"| {norm} | {last['step']} | {last['val_loss']:.4f} | {gap} | {speed:.0f} | "
              f"{'yes' if finished(study / f'gpt-{norm}') else 'no'} |")

    print()
    print("| ViT, Fashion-MNIST | epochs | test accuracy | vs LayerNorm (points) | test loss | images/s (median) | finished |")
    print("|---|---|---|---|---|---|---|")
    reference = last_with(read_log(study / "vit-layernorm"), "test_accuracy")
    for norm in norms:
        rows = read_log(study / f"vit-{norm}")
        last = last_with(rows, "test_accuracy")
        if not last:
            print(f"| {norm} | - | not run | | | | |")
            continue
        speed = sorted(r["images_per_s"] for r in rows)[len(rows) // 2]
        gap = f"{100 * (last['test_accuracy'] - reference['test_accuracy']):+.2f}" if reference else ""
        print(f"| {norm} | {last['epoch']:.2f} | {100 * last['test_accuracy']:.2f}% | {gap} | {last['test_loss']:.4f} | "
              f"{speed:.0f} | {'yes' if finished(study / f'vit-{norm}') else 'no'} |")

    print()
    print("| DyT alpha0 (ViT) | epochs | test accuracy | training loss, last 50 steps | finished |")
    print("|---|---|---|---|---|")
    for alpha in ["0.1", "0.5", "1", "2", "4", "8"]:
        folder = study / ("vit-dyt" if alpha == "0.5" else f"vit-dyt-alpha{alpha}")
        rows = read_log(folder)
        last = last_with(rows, "test_accuracy")
        if not rows:
            print(f"| {alpha} | - | not run | | |")
            continue
        tail = rows[-50:]
        loss = sum(r["loss"] for r in tail) / len(tail)
        accuracy = f"{100 * last['test_accuracy']:.2f}%" if last else "-"
        print(f"| {alpha} | {rows[-1]['epoch']:.2f} | {accuracy} | {loss:.4f} | {'yes' if finished(folder) else 'no'} |")


if __name__ == "__main__":
    main()
