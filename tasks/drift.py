"""Has production traffic drifted from what the model was trained on? An embedding two-sample test.

check(train_prompts, window_prompts, params.drift) -> DriftResult("drift", "...p=0.001...")

Prompts are embedded with the shipped all-MiniLM-L6-v2 and compared with a permutation test on the distance
between the two mean embeddings (an MMD with a linear kernel): new topics move the mean, and the test needs
no distributional assumption. A window smaller than `min_window` is reported as such and decides nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import orjson

from tasks.config import DriftParams
from tasks.errors import DataFormatError


@dataclass(frozen=True)
class DriftResult:
    status: Literal["drift", "no_drift", "insufficient"]
    reason: str
    statistic: float
    p_value: float
    window: int
    reference: int

    @property
    def drifted(self) -> bool:
        return self.status == "drift"

    def as_dict(self) -> dict:
        return asdict(self)


def read_prompts(path: Path) -> list[str]:
    """The last user turn of each JSONL record (chat `messages`, or a bare `prompt`)."""
    if not path.is_file():
        raise DataFormatError(f"{path}: not found (the drift window is set by drift.window)")
    prompts = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise DataFormatError(f"{path}:{number}: not JSON ({err}); fix or remove the line") from None
        users = [m.get("content", "") for m in rec.get("messages", []) if m.get("role") == "user"]
        text = users[-1] if users else rec.get("prompt", "")
        if isinstance(text, str) and text.strip():
            prompts.append(text)
    return prompts


def mean_shift_test(x: np.ndarray, y: np.ndarray, permutations: int, seed: int) -> tuple[float, float]:
    """||mean(x) - mean(y)||^2 and its permutation p-value (with the +1 correction, never exactly 0)."""
    pooled = np.concatenate([x, y])
    n = len(x)

    def stat(index: np.ndarray) -> float:
        diff = pooled[index[:n]].mean(axis=0) - pooled[index[n:]].mean(axis=0)
        return float(diff @ diff)

    rng = np.random.default_rng(seed)
    observed = stat(np.arange(len(pooled)))
    exceed = sum(stat(rng.permutation(len(pooled))) >= observed for _ in range(permutations))
    return observed, (exceed + 1) / (permutations + 1)


def check(reference: list[str], window: list[str], params: DriftParams) -> DriftResult:
    from tasks.embeddings import embed

    rng = np.random.default_rng(params.seed)
    ref = [reference[i] for i in rng.permutation(len(reference))[: params.reference_rows]]
    win = window[-params.max_window :]
    if len(win) < params.min_window:
        reason = f"too little traffic: {len(win)} prompts in the window, {params.min_window} needed"
        return DriftResult("insufficient", reason, float("nan"), float("nan"), len(win), len(ref))
    statistic, p = mean_shift_test(embed(ref), embed(win), params.permutations, params.seed)
    drifted = p < params.p_value
    verdict = "drift" if drifted else "no drift"
    reason = (
        f"{verdict}: mean-embedding shift {statistic:.4g}, permutation p = {p:.3g} "
        f"({'<' if drifted else '>='} {params.p_value}), {len(win)} recent vs {len(ref)} training prompts"
    )
    return DriftResult("drift" if drifted else "no_drift", reason, statistic, p, len(win), len(ref))
