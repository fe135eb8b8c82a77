"""A terminal summary of the pipeline stages and where to look at their results."""

from __future__ import annotations

from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table


def _load(path: Path) -> dict | None:
    return orjson.loads(path.read_bytes()) if path.is_file() else None


def render(console: Console, prepared: Path, validation: Path, split_summary: Path, train: Path) -> None:
    table = Table(title="llmops pipeline", show_lines=False)
    table.add_column("stage")
    table.add_column("result")
    table.add_column("output")
    if (s := _load(prepared)) is not None:
        reasons = ", ".join(f"{k} {v}" for k, v in s["dropped"].items())
        pii = ", ".join(f"{k} {v}" for k, v in s["pii_replaced"].items())
        table.add_row(
            "prepare",
            f"{s['rows_in']} in, {s['rows_kept']} kept, {s['rows_dropped']} quarantined\n"
            f"({reasons})\nPII replaced: {pii}",
            str(prepared.parent),
        )
    if (v := _load(validation)) is not None:
        table.add_row(
            "validate", f"{v['passed']}/{v['evaluated']} expectations passed", str(validation.with_suffix(".html"))
        )
    if (sp := _load(split_summary)) is not None:
        sizes = ", ".join(f"{name} {sp['rows'][name]}" for name in ("train", "validation", "test"))
        table.add_row("split", sizes, str(split_summary.parent))
    if (t := _load(train)) is not None:
        table.add_row(
            "train",
            f"{t['steps']} steps, val loss {t['initial_val_loss']:.3f} -> {t['val_loss']:.3f}\n"
            f"{t['tokens_per_s']} tokens/s, {t['train_seconds']:.0f} s",
            "models/adapter",
        )
    console.print(table)
    console.print(
        "Quarantined rows with reasons: data/prepared/quarantine.jsonl   "
        "Metrics: `dvc metrics show`   Loss curve: `dvc plots show`   Lineage: `dvc dag`\n"
        "MLflow runs, loss curves and the logged model: `.venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db`"
        " then open http://127.0.0.1:5000"
    )
