#!/usr/bin/env python3
"""Prints the study's tables (markdown) from the runs of tools/study.sh.

usage: tools/study_table.py [STUDY_DIR]   (default runs/study; the archived runs: docs/results/logs)
Each run folder holds log.jsonl (one JSON object per step; or log.jsonl.gz) and output.txt (the
program's output; or final.txt, its last line), whose 'final:' line says the run finished. Python's
standard library only.
"""
import functools
import gzip
import json
import pathlib
import sys


@functools.lru_cache(maxsize=None)  # main() asks which runs exist, then the tables read them
def read_log(folder):
    for path, opener in [(folder / "log.jsonl", open), (folder / "log.jsonl.gz", gzip.open)]:
        if path.exists():
            with opener(path, "rt") as f:
                return [json.loads(line) for line in f if line.strip()]
    return []


def finished(folder):
    for out in [folder / "output.txt", folder / "final.txt"]:
        if not out.exists():
            continue
        lines = out.read_text(errors="replace").replace("\r", "\n").splitlines()  # samples may not be UTF-8
        if any(line.startswith("final:") for line in lines):
            return True
    return False


def last_with(rows, key):
    marked = [r for r in rows if key in r]
    return marked[-1] if marked else None


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def mean_loss_of_last(rows, n=50):
    tail = rows[-n:]
    return sum(r["loss"] for r in tail) / len(tail)


def gpt_table(study, title, runs, reference="gpt-layernorm"):
    """runs: (label, folder name); the gap is to the reference run's final validation loss."""
    print(f"| {title} | steps | final validation loss | vs LayerNorm | training loss, last 50 steps | tokens/s (median) | finished |")
    print("|---|---|---|---|---|---|---|")
    ref = last_with(read_log(study / reference), "val_loss")
    for label, name in runs:
        rows = read_log(study / name)
        last = last_with(rows, "val_loss")
        if not last:
            print(f"| {label} | - | not run | | | | |")
            continue
        gap = f"{100 * (last['val_loss'] / ref['val_loss'] - 1):+.1f}%" if ref else ""
        print(f"| {label} | {last['step']} | {last['val_loss']:.4f} | {gap} | {mean_loss_of_last(rows):.4f} | "
              f"{median(r['tokens_per_s'] for r in rows):.0f} | {'yes' if finished(study / name) else 'no'} |")
    print()


def vit_table(study, title, runs, reference="vit-layernorm"):
    """runs: (label, folder name); the gap is to the reference run's test accuracy, in points."""
    print(f"| {title} | epochs | test accuracy | vs LayerNorm (points) | test loss | training loss, last 50 steps | "
          "images/s (median) | finished |")
    print("|---|---|---|---|---|---|---|---|")
    ref = last_with(read_log(study / reference), "test_accuracy")
    for label, name in runs:
        rows = read_log(study / name)
        last = last_with(rows, "test_accuracy")
        if not rows:
            print(f"| {label} | - | not run | | | | | |")
            continue
        accuracy = f"{100 * last['test_accuracy']:.2f}%" if last else "-"
        gap = f"{100 * (last['test_accuracy'] - ref['test_accuracy']):+.2f}" if last and ref else ""
        test_loss = f"{last['test_loss']:.4f}" if last else "-"
        print(f"| {label} | {rows[-1]['epoch']:.2f} | {accuracy} | {gap} | {test_loss} | {mean_loss_of_last(rows):.4f} | "
              f"{median(r['images_per_s'] for r in rows):.0f} | {'yes' if finished(study / name) else 'no'} |")
    print()


def vit_epochs_table(study, title, runs):
    """runs: (label, folder name); test accuracy after each epoch, a column a run (a run still going
    shows its epochs so far)."""
    accuracy = {}
    for label, name in runs:
        accuracy[label] = {round(r["epoch"]): r["test_accuracy"] for r in read_log(study / name) if "test_accuracy" in r}
    epochs = sorted(set().union(*(a.keys() for a in accuracy.values())))
    print(f"| {title}: epoch | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for epoch in epochs:
        cells = [f"{100 * accuracy[label][epoch]:.2f}%" if epoch in accuracy[label] else "" for label, _ in runs]
        print(f"| {epoch} | " + " | ".join(cells) + " |")
    print()


def main():
    study = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/study")
    norms = ["dyt", "layernorm", "rmsnorm", "none"]
    tables = [
        (gpt_table, "GPT, fortunes", [(n, f"gpt-{n}") for n in norms], "gpt-layernorm"),
        (gpt_table, "GPT, DyT variant", [("alpha0 1", "gpt-dyt-alpha1"), ("alpha0 2", "gpt-dyt-alpha2"),
                                         ("alpha0 4 (default)", "gpt-dyt"), ("alpha0 8", "gpt-dyt-alpha8"),
                                         ("alpha0 4, no embedding scalar", "gpt-dyt-unscaled")], "gpt-layernorm"),
        (vit_table, "ViT, Fashion-MNIST", [(n, f"vit-{n}") for n in norms], "vit-layernorm"),
        (vit_table, "ViT, DyT alpha0", [(a, "vit-dyt" if a == "0.5" else f"vit-dyt-alpha{a}")
                                        for a in ["0.1", "0.5", "1", "2", "4", "8"]], "vit-layernorm"),
        (vit_table, "ViT, longer", [("layernorm", "vit-long-layernorm"), ("dyt", "vit-long-dyt")],
         "vit-long-layernorm"),
        # tools/study.sh augment: width 96, 6 layers, patches of 4x4, shifts of 2 px and mirror images.
        (vit_table, "ViT, augmented", [("layernorm", "vit-augment-layernorm"), ("dyt", "vit-augment-dyt")],
         "vit-augment-layernorm"),
        # The README's default GPT (build/train-gpt with no flags but these), 600 steps on the CPU.
        (gpt_table, "GPT, the CPU default (600 steps)",
         [("dyt, lr 2e-3 (the earlier default)", "gpt-default-dyt"), ("dyt, lr 1e-3 (the default now)", "gpt-default-dyt-lr1e-3"),
          ("dyt, lr 5e-4", "gpt-default-dyt-lr5e-4"), ("dyt, alpha0 0.5", "gpt-default-dyt-alpha0.5"),
          ("dyt, alpha0 0.25", "gpt-default-dyt-alpha0.25"), ("dyt, lr 1e-3, seed 2", "gpt-default-dyt-lr1e-3-seed2"),
          ("layernorm", "gpt-default-layernorm"), ("layernorm, lr 1e-3", "gpt-default-layernorm-lr1e-3")],
         "gpt-default-layernorm"),
        # tools/gpu_study_session.sh
        (gpt_table, "GPT on a GPU (--gpu-config)", [(n, f"gpt-gpu-{n}") for n in norms], "gpt-gpu-layernorm"),
        (gpt_table, "GPT on a GPU, untied head", [(n, f"gpt-gpu-{n}-untied") for n in norms], "gpt-gpu-layernorm-untied"),
        (gpt_table, "GPT on a GPU, DyT variant",
         [("alpha0 4, embedding scalar (default)", "gpt-gpu-dyt"), ("alpha0 4, no embedding scalar", "gpt-gpu-dyt-unscaled"),
          ("alpha0 1, embedding scalar", "gpt-gpu-dyt-alpha1"), ("alpha0 1, no embedding scalar", "gpt-gpu-dyt-alpha1-unscaled"),
          ("alpha0 4, embedding scalar, untied head", "gpt-gpu-dyt-untied"),
          ("alpha0 1, no embedding scalar, untied head", "gpt-gpu-dyt-alpha1-unscaled-untied")],
         "gpt-gpu-layernorm"),
        # tools/study.sh recipe: 600-step screens (DyT at lr 1e-3 unless said; gamma0 "matched" is
        # LayerNorm's output scale at step 0), then 1200 steps (train-gpt's default length).
        (gpt_table, "GPT recipe screens (600 steps)",
         [("layernorm, lr 1e-3", "s600-layernorm-lr1e-3"), ("layernorm, lr 2e-3", "s600-layernorm"),
          ("layernorm, lr 4e-3", "s600-layernorm-lr4e-3"), ("layernorm, lr 8e-3", "s600-layernorm-lr8e-3"),
          ("dyt, alpha0 4, gamma0 1 (the earlier recipe)", "s600-dyt"), ("dyt, alpha0 4, gamma0 1, no beta", "s600-dyt-nobeta"),
          ("dyt, alpha0 4, gamma0 1.67 (matched)", "s600-dyt-g1.67"), ("dyt, alpha0 2, gamma0 2.6 (matched)", "s600-dyt-a2-g2.6"),
          ("dyt, alpha0 1, gamma0 4.6 (matched)", "s600-dyt-a1-g4.6"),
          ("dyt, alpha0 1, gamma0 4.6 (matched), no beta", "s600-dyt-a1-g4.6-nobeta"),
          ("dyt, alpha0 0.5, gamma0 8.9 (matched)", "s600-dyt-a0.5-g8.9"),
          ("dyt, alpha0 0.25, gamma0 17.7 (matched)", "s600-dyt-a0.25-g17.7"),
          ("dyt, alpha0 1, matched, lr 2e-3", "s600-dyt-a1-g4.6-lr2e-3"), ("dyt, alpha0 1, matched, lr 4e-3", "s600-dyt-g0-a1-lr4e-3"),
          ("dyt, alpha0 0.25, matched, lr 2e-3", "s600-dyt-g0-a0.25-lr2e-3"),
          ("dyt, alpha0 0.5, matched, lr 2e-3 (the recipe)", "s600-dyt-g0-a0.5-lr2e-3"),
          ("dyt, the recipe, lr 4e-3", "s600-dyt-g0-a0.5-lr4e-3"), ("dyt, the recipe, lr 8e-3", "s600-dyt-g0-a0.5-lr8e-3"),
          ("dyt, the recipe, alpha0 1 before attention", "s600-dyt-g0-att1-a0.5"),
          ("dyt, the recipe, the scalar on tokens + positions", "s600-dyt-g0-a0.5-scalepos"),
          ("dyt, the recipe, no embedding scalar", "s600-dyt-g0-a0.5-noscale"),
          ("derf, the recipe, lr 2e-3", "s600-derf")], "s600-layernorm"),
        (gpt_table, "GPT recipe, 1200 steps",
         [("layernorm, lr 2e-3, seed 1", "r1200-layernorm-lr2e-3-seed1"), ("layernorm, lr 2e-3, seed 2", "r1200-layernorm-lr2e-3-seed2"),
          ("layernorm, lr 4e-3, seed 1", "r1200-layernorm-lr4e-3-seed1"), ("layernorm, lr 4e-3, seed 2", "r1200-layernorm-lr4e-3-seed2"),
          ("layernorm, lr 8e-3, seed 1", "r1200-layernorm-lr8e-3-seed1"), ("layernorm, lr 8e-3, seed 2", "r1200-layernorm-lr8e-3-seed2"),
          ("dyt, the recipe, lr 2e-3, seed 1", "r1200-dyt-seed1"), ("dyt, the recipe, lr 2e-3, seed 2", "r1200-dyt-seed2"),
          ("dyt, the recipe, lr 4e-3, seed 1", "r1200-dyt-lr4e-3-seed1"),
          ("dyt, the earlier recipe (alpha0 4, gamma0 1, lr 1e-3)", "r1200-dyt-old-seed1"),
          ("derf, the recipe, lr 2e-3", "r1200-derf-seed1"), ("no norm, lr 2e-3", "r1200-none-seed1")],
         "r1200-layernorm-lr2e-3-seed1"),
        (gpt_table, "GPT held-out configuration (width 96, 6 layers, 3 heads, seed 11)",
         [("layernorm, lr 2e-3", "held-out-layernorm"), ("dyt, the recipe, lr 2e-3", "held-out-dyt")], "held-out-layernorm"),
        (vit_table, "ViT on a GPU (--gpu-config)",
         [("layernorm", "vit-gpu-layernorm"), ("dyt, alpha0 2", "vit-gpu-dyt"), ("dyt, alpha0 0.5", "vit-gpu-dyt-alpha0.5"),
          ("rmsnorm", "vit-gpu-rmsnorm"), ("none", "vit-gpu-none")], "vit-gpu-layernorm"),
    ]
    # tools/study.sh vit-recipe and vit-wide: gamma0 matched (LayerNorm's output scale at step 0).
    recipe = [(f"dyt, alpha0 {a}", f"vit-recipe-dyt-alpha{a}") for a in ["0.5", "1", "2"]]
    tables.append((vit_table, "ViT, the GPT's DyT recipe (3 epochs)", recipe + [("layernorm", "vit-recipe-layernorm")],
                   "vit-recipe-layernorm"))
    wide = [("layernorm", "vit-wide-layernorm"), ("layernorm, seed 2", "vit-wide-layernorm-seed2"),
            ("dyt, alpha0 2", "vit-wide-dyt"), ("dyt, alpha0 0.5", "vit-wide-dyt-alpha0.5"),
            ("dyt, alpha0 0.5, seed 2", "vit-wide-dyt-alpha0.5-seed2"), ("dyt, alpha0 1", "vit-wide-dyt-alpha1")]
    tables.append((vit_table, "ViT, wide (width 128, 6 layers, 4x4 patches, augmented)", wide, "vit-wide-layernorm"))
    for table, title, runs, reference in tables:
        if any(read_log(study / name) for _, name in runs):
            table(study, title, [(label, name) for label, name in runs if read_log(study / name)], reference)
    wide = [(label, name) for label, name in wide if read_log(study / name)]
    if wide:
        vit_epochs_table(study, "ViT, wide", wide)


if __name__ == "__main__":
    main()
