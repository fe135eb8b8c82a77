"""The injection classifier: a logistic regression over `features.featurize`, saved as plain arrays.

Saved as numpy arrays and JSON rather than a pickle: loading it runs no code, and the hashing features need no
fitted vocabulary, so the weights are the whole model (with the token vectors' standardisation among the arrays, and
the fine-tuned encoder's safetensors folder beside them when `guard_model.encoder_epochs` made one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from tasks.core.errors import ConfigError
from tasks.core.files import write_json
from tasks.guard.encoder import ENCODER, load_encoder
from tasks.guard.features import EMBEDDING_DIM, Embed, featurize, pieces
from tasks.guard.token_vectors import TokenVectors, beside

WEIGHTS = "classifier.npz"
META = "classifier.json"


@dataclass(frozen=True)
class InjectionClassifier:
    coef: np.ndarray
    intercept: float
    threshold: float
    meta: dict[str, Any]
    centroids: np.ndarray  # one unit row per attack family: the mean sentence embedding of its training rows
    families: list[str]
    encoder: Embed | None = None  # the guard's fine-tuned encoder (tasks/guard/encoder.py), when it has one
    words: TokenVectors | None = None  # the base model's token vectors beside the encoder's (guard_model.token_vectors)
    calibration: tuple[float, float] = (1.0, 0.0)  # a score is sigmoid(a * logit + b): `calibrated`

    def scores(self, texts: list[str], embed: Embed) -> np.ndarray:
        """Probability of an injection for each text."""
        return self.explain(texts, embed)[0]

    def explain(self, texts: list[str], embed: Embed) -> tuple[np.ndarray, list[str]]:
        """Each text's probability of an injection (its highest piece's: `features.pieces`), and the attack family
        the whole text is most like (what a block names).
        `embed` is the shipped encoder, used when the classifier carries no fine-tuned one of its own."""
        if not texts:
            return np.zeros(0), []
        parts, owner = pieces(texts)
        features = featurize(parts, self.reader(embed))
        nearest = (features[: len(texts), :EMBEDDING_DIM].toarray() @ self.centroids.T).argmax(axis=1)
        return highest(self.score_features(features), owner, len(texts)), [self.families[i] for i in nearest]

    def reader(self, embed: Embed) -> Embed:
        """What the classifier reads a sentence with: its own encoder or the shipped one, and its token vectors."""
        return beside(self.encoder or embed, self.words)

    def score_features(self, features: sparse.csr_matrix) -> np.ndarray:
        return probabilities(self.logits(features), self.calibration)

    def logits(self, features: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(features @ self.coef + self.intercept).ravel()

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        words = {"word_mean": self.words.mean, "word_scale": self.words.scale} if self.words else {}
        np.savez_compressed(
            out / WEIGHTS,
            coef=self.coef,
            intercept=np.array([self.intercept]),
            calibration=np.array(self.calibration),
            centroids=self.centroids,
            **words,
        )
        write_json(out / META, {**self.meta, "threshold": self.threshold, "families": self.families})


def highest(scores: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per text, the highest score (or logit) among its pieces."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, owner, scores)
    return out


def load(path: Path) -> InjectionClassifier:
    if not (path / WEIGHTS).is_file() or not (path / META).is_file():
        raise ConfigError(
            f"serving.guard.classifier: no injection classifier in {path}; run `dvc repro guard` (or `llmops guard`)"
        )
    meta = json.loads((path / META).read_text())
    with np.load(path / WEIGHTS) as arrays:
        coef, intercept, centroids = arrays["coef"], float(arrays["intercept"][0]), arrays["centroids"]
        words = TokenVectors(arrays["word_mean"], arrays["word_scale"]) if "word_mean" in arrays else None
        a, b = arrays.get("calibration", (1.0, 0.0))
    encoder = load_encoder(path / ENCODER) if (path / ENCODER).is_dir() else None
    threshold = float(meta["threshold"])
    return InjectionClassifier(
        coef, intercept, threshold, meta, centroids, meta["families"], encoder, words, (float(a), float(b))
    )


def fit(
    texts: list[str], labels: list[int], families: list[str], embed: Embed, regularization: float
) -> InjectionClassifier:
    return fit_features(featurize(texts, embed), labels, families, regularization)


def fit_features(
    features: sparse.csr_matrix, labels: list[int], families: list[str], regularization: float
) -> InjectionClassifier:
    """A balanced logistic regression (attacks and benign weigh the same however many of each), threshold 0.5
    until the caller sets one from held-out scores; and each attack family's centroid."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=regularization, class_weight="balanced", max_iter=2000, solver="liblinear")
    model.fit(features, np.asarray(labels))
    mean_embeddings = features[:, :EMBEDDING_DIM].toarray()
    names = sorted({f for f, label in zip(families, labels, strict=True) if label})
    centroids = np.stack([mean_embeddings[[f == name for f in families]].mean(axis=0) for name in names])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    coef = model.coef_.ravel().astype(np.float32)
    return InjectionClassifier(coef, float(model.intercept_[0]), 0.5, {}, centroids.astype(np.float32), names)


def probabilities(logits: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    a, b = calibration
    return 1.0 / (1.0 + np.exp(-(a * logits + b)))


def calibrated(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling fitted on out-of-fold logits: (a, b) with P(attack) = sigmoid(a * logit + b).
    A classifier over a fine-tuned encoder's features separates the rows the encoder was tuned on, so its raw logits
    run past 40, where every confident look-alike's probability is 1.0 in floating point and no threshold can be
    chosen among them; scaled on rows it did not see, the scores keep their order and stay apart."""
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e6, class_weight="balanced").fit(logits.reshape(-1, 1), labels)
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


def threshold_at_fpr(benign_scores: np.ndarray, target_fpr: float) -> float:
    """The lowest threshold that flags at most `target_fpr` of the benign scores (a score >= threshold flags)."""
    allowed = int(np.floor(target_fpr * len(benign_scores)))
    ranked = np.sort(benign_scores)[::-1]
    if allowed >= len(ranked):
        return float(np.nextafter(0.0, 1.0))
    return float(np.nextafter(ranked[allowed], 1.0))
