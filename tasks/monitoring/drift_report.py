"""What a person looks at after a drift check: the Evidently report (drift.html, tasks/monitoring/evidently_report.py),
three plots of the project's own checks, and the JSON."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from tasks.core.files import write_json
from tasks.core.plots import scatter_by_label, to_png
from tasks.monitoring.drift import OTHER, DriftResult, Sample


def intent_plot(result: DriftResult, top: int = 15) -> bytes:
    moved = sorted(result.mix, key=lambda n: -abs(result.mix[n]["window"] - result.mix[n]["reference"]))[:top]
    y = np.arange(len(moved))
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(moved) + 1.2))
    ax.barh(y + 0.2, [result.mix[n]["reference"] for n in moved], 0.4, label="training", color="#9e9e9e")
    ax.barh(y - 0.2, [result.mix[n]["window"] for n in moved], 0.4, label="recent", color="#1f77b4")
    ax.set_yticks(y, [f"{n} (unlike any training intent)" if n == OTHER else n for n in moved])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(f"share of prompts (the {len(moved)} intents that moved most)")
    ax.legend()
    return to_png(fig)


def length_plot(result: DriftResult) -> bytes:
    edges = np.array(result.lengths["edges"])
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for side, color in (("reference", "#9e9e9e"), ("window", "#1f77b4")):
        ax.stairs(result.lengths[side], edges, label="training" if side == "reference" else "recent", color=color,
                  linewidth=2)  # fmt: skip
    ax.set_xlabel("words per prompt")
    ax.set_ylabel("share of prompts")
    ax.legend()
    return to_png(fig)


def projection_plot(result: DriftResult) -> bytes:
    """Left: training vs recent prompts; right: the recent ones by cluster (the table's numbers)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5), sharex=True, sharey=True)
    for side, color in (("reference", "#9e9e9e"), ("window", "#1f77b4")):
        points = np.array(result.projection[side])
        left.scatter(points[:, 0], points[:, 1], s=6, alpha=0.5, color=color,
                     label="training" if side == "reference" else "recent")  # fmt: skip
    left.set_xlabel("PC 1")
    left.set_ylabel("PC 2")
    left.legend()
    reference = np.array(result.projection["reference"])
    right.scatter(reference[:, 0], reference[:, 1], s=4, alpha=0.25, color="#cccccc")
    clusters = [f"cluster {c}" for c in result.projection.get("window_cluster", [])]
    if clusters:
        scatter_by_label(right, result.projection["window"], clusters, "recent prompts by cluster (grey: training)")
    return to_png(fig)


def write(result: DriftResult, sample: Sample, out_dir: Path, html: bool = True) -> list[Path]:
    """drift.json, the PNGs and (with `html`) drift.html under `out_dir`; the paths, to log as artifacts, the
    report a person opens last."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "drift.json", result.as_dict())
    paths = [out_dir / "drift.json"]
    if result.status != "insufficient":
        images = {"intent_mix.png": intent_plot(result), "prompt_lengths.png": length_plot(result),
                  "embedding_projection.png": projection_plot(result)}  # fmt: skip
        for name, png in images.items():
            (out_dir / name).write_bytes(png)
            paths.append(out_dir / name)
    if not html:
        (out_dir / "drift.html").unlink(missing_ok=True)  # an earlier check's report would pass for this one's
        return paths
    from tasks.monitoring import evidently_report  # Evidently's import alone is about 5 CPU-seconds

    (out_dir / "drift.html").write_text(evidently_report.html(result, sample), encoding="utf-8")
    return [*paths, out_dir / "drift.html"]
