"""PNG figures people look at: PR curves, confusion matrix, training curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_pr_curves(precision: np.ndarray, classes: list[str], path: Path) -> None:
    plt = _pyplot()
    recall = np.linspace(0, 1, precision.shape[1])
    fig, ax = plt.subplots(figsize=(6, 5))
    for k, name in enumerate(classes):
        p = precision[0, :, k, 0, -1]
        if (p > -1).any():
            ap = p[p > -1].mean()
            ax.plot(recall, np.where(p > -1, p, np.nan), label=f"{name} (AP50 {ap:.3f})")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall at IoU 0.5", xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, classes: list[str], path: Path) -> None:
    plt = _pyplot()
    names = list(classes) + ["background"]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(names)), [n if n != "background" else "missed" for n in names], rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (score >= threshold, IoU >= 0.5)")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_recall_by_size(bins, path: Path) -> None:
    """Bars: share of boxes found (IoU >= 0.5, any score) per face-size bin, box counts on top."""
    plt = _pyplot()
    shown = [b for b in bins if b.boxes]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bars = ax.bar([b.name for b in shown], [b.recall for b in shown], color="tab:blue")
    for bar, b in zip(bars, shown):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01, f"{b.found}/{b.boxes}",
                ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="face side sqrt(w*h), source px", ylabel="recall", ylim=(0, 1.1),
           title="Faces found at IoU 0.5 (any score, top 100 per image)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_training_curves(rows: list[dict], path: Path) -> None:
    plt = _pyplot()
    epochs = [r["epoch"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "loss_cls", "loss_box"):
        a1.plot(epochs, [r[key] for r in rows], label=key)
    a1.set(xlabel="epoch", title="training loss")
    a1.legend()
    a1.grid(alpha=0.3)
    plotted = False
    for key in ("val_map50", "val_map50_95"):
        pts = [(r["epoch"], r[key]) for r in rows if r.get(key) not in (None, "")]
        if pts:
            a2.plot(*zip(*pts), marker="o", label=key)
            plotted = True
    a2.set(xlabel="epoch", title="validation mAP", ylim=(0, 1))
    if plotted:
        a2.legend()
    a2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_operating_points(points, path: Path) -> None:
    """False-admit and false-refuse rate against the gate's mask threshold (``gate/operating.py``); the
    right panel zooms on the false-admit rate near the chosen maximum."""
    plt = _pyplot()
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(11, 4.5))
    t = points.thresholds
    at = points.at(points.recommended) if points.recommended is not None else None
    for a in (ax, zoom):
        a.plot(t, points.false_admit, color="tab:red",
               label=f"false admit (of {points.n_not_ok} faces without or with incorrectly worn mask)")
        a.plot(t, points.false_refuse, color="tab:blue", label=f"false refuse (of {points.faces_ok} with_mask faces)")
        a.axhline(points.max_false_admit, color="tab:red", ls=":", lw=1, label=f"max false admit {points.max_false_admit:g}")
        a.axvline(points.rules.with_mask, color="grey", ls="--", lw=1,
                  label=f"current mask.with_mask {points.rules.with_mask:g}")
        if at is not None:
            a.axvline(points.recommended, color="black", lw=1.2, label=f"recommended {points.recommended:g}: "
                      f"false admit {at['false_admit']:.3f}, false refuse {at['false_refuse']:.3f}")
        a.grid(alpha=0.3)
        a.set(xlabel="mask.with_mask (score a with_mask face needs)", xlim=(0, 1))
    ax.set(ylabel="rate", ylim=(0, 1.02), title=f"Gate operating points (faces seen at score >= {points.rules.min_face_score:g})")
    top = max(3 * points.max_false_admit, float(points.false_admit.max()) * 1.1, 0.01)
    zoom.set(ylim=(0, top), title="false admits, zoomed")
    ax.legend(loc="center left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
