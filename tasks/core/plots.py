"""PNG plots logged to MLflow (matplotlib without a display)."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def to_png(fig) -> bytes:
    """The figure as PNG bytes (for HTML reports and MLflow), closed afterwards."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def loss_curve(history_csv: Path, out: Path) -> Path:
    """Training loss per step with validation loss where it was measured."""
    history = pd.read_csv(history_csv)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(history["step"], history["loss"], label="train loss", linewidth=1)
    val = history.dropna(subset=["val_loss"])
    ax.plot(val["step"], val["val_loss"], "o-", label="validation loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("token-mean cross-entropy")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def scatter_by_label(
    ax, points, labels: list[str], title: str, top: int = 10, markers: list[str] | None = None
) -> None:
    """One colour per label (the `top` most common; the rest grey as "other"), an optional marker per point."""
    common = [name for name, _ in Counter(labels).most_common(top)]
    colours = dict(zip(common, plt.get_cmap("tab10").colors, strict=False))
    groups: dict[tuple[str, str], list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault((label if label in colours else "other", markers[i] if markers else "o"), []).append(i)
    points = np.asarray(points)
    named: set[str] = set()
    for (name, marker), rows in sorted(groups.items(), key=lambda kv: kv[0][0] == "other"):
        ax.scatter(points[rows, 0], points[rows, 1], s=12, alpha=0.7, marker=marker,
                   color=colours.get(name, (0.75, 0.75, 0.75)), label=None if name in named else name)  # fmt: skip
        named.add(name)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=6, loc="best", markerscale=0.8, frameon=False)
