"""The injection classifier: a logistic regression over `features.featurize`, saved as plain arrays.

Saved as numpy arrays and JSON rather than a pickle: loading it runs no code, and the hashing features need no
fitted vocabulary, so the weights are the whole model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.core.errors import ConfigError
from tasks.core.files import write_json
from tasks.guard.features import Embed, featurize

WEIGHTS = "classifier.npz"
META = "classifier.json"


@dataclass(frozen=True)
class InjectionClassifier:
    coef: np.ndarray
    intercept: float
    threshold: float
    meta: dict[str, Any]

    def scores(self, texts: list[str], embed: Embed) -> np.ndarray:
        """Probability of an injection for each text."""
        if not texts:
            return np.zeros(0)
        logits = featurize(texts, embed) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(logits).ravel()))

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out / WEIGHTS, coef=self.coef, intercept=np.array([self.intercept]))
        write_json(out / META, {**self.meta, "threshold": self.threshold})


def load(path: Path) -> InjectionClassifier:
    if not (path / WEIGHTS).is_file() or not (path / META).is_file():
        raise ConfigError(
            f"serving.guard.classifier: no injection classifier in {path}; run `dvc repro guard` (or `llmops guard`)"
        )
    meta = json.loads((path / META).read_text())
    with np.load(path / WEIGHTS) as arrays:
        coef, intercept = arrays["coef"], float(arrays["intercept"][0])
    return InjectionClassifier(coef, intercept, float(meta["threshold"]), meta)


def fit(texts: list[str], labels: list[int], embed: Embed, regularization: float) -> InjectionClassifier:
    """A balanced logistic regression (attacks and benign weigh the same however many of each); threshold 0.5
    until `with_threshold` sets one from validation data."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=regularization, class_weight="balanced", max_iter=2000, solver="liblinear")
    model.fit(featurize(texts, embed), np.asarray(labels))
    return InjectionClassifier(model.coef_.ravel().astype(np.float32), float(model.intercept_[0]), 0.5, {})


def threshold_at_fpr(benign_scores: np.ndarray, target_fpr: float) -> float:
    """The lowest threshold that flags at most `target_fpr` of the benign scores (a score >= threshold flags)."""
    allowed = int(np.floor(target_fpr * len(benign_scores)))
    ranked = np.sort(benign_scores)[::-1]
    if allowed >= len(ranked):
        return float(np.nextafter(0.0, 1.0))
    return float(np.nextafter(ranked[allowed], 1.0))
