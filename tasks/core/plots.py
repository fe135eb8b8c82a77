"""PNG plots logged to MLflow (matplotlib without a display)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
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
