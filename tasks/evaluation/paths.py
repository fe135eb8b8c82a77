"""Where an evaluation reads and writes: apart from `evaluate`, so commands that only name the files (the parity
stage with nothing to compare) do not import torch for them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EvalPaths:
    test: Path
    intents: Path
    base: Path
    probes: Path
    out: Path
    adapter: Path | None = None
    baseline: Path | None = None
    run_from: Path | None = None
    report: Path | None = None
    feedback: Path | None = None  # the feedback snapshot, whose labels calibrate the judge

    @property
    def examples(self) -> Path:
        return examples_of(self.out)

    @property
    def baseline_examples(self) -> Path | None:
        return examples_of(self.baseline) if self.baseline else None


def examples_of(metrics: Path) -> Path:
    """The per-example file written beside a metrics file."""
    return metrics.with_name(metrics.stem + "_examples.jsonl")
