"""The injection classifier: a logistic regression over `features.featurize`, saved as plain arrays.

Saved as numpy arrays and JSON rather than a pickle: loading it runs no code, and the hashing features need no
fitted vocabulary, so the weights are the whole model (with the token vectors' standardisation among the arrays).
With `guard_model.encoder_epochs`, a second head reads the guard's fine-tuned encoder, saved as a safetensors folder
beside the weights, and the two heads' logits are added. With `guard_model.int8`, the first head reads the shipped
encoder with int8 weights rather than the caller's `embed`, and the second its fine-tuned one's int8 graph. With
`guard_model.gate_margin`, a first stage over the features no encoder gives clears most support text before either
encoder reads it.
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
from tasks.guard import token_vectors
from tasks.guard.encoder import ENCODER, load_encoder
from tasks.guard.features import EMBEDDING_DIM, Embed, Revealed, featurize, no_vectors, pieces
from tasks.guard.token_vectors import TokenVectors, beside
from tasks.models.embeddings import remembering, shipped

WEIGHTS = "classifier.npz"
META = "classifier.json"
CLEARED = "cleared"  # the family `explain` names for a text the first stage cleared (it scores 0)


@dataclass(frozen=True)
class Head:
    """A logistic regression over the features one encoder gives. Its logit is divided by `scale`, the spread of
    its out-of-fold logits, so heads over different encoders add up as equals."""

    coef: np.ndarray
    intercept: float
    scale: float = 1.0
    encoder: Embed | None = None  # None: the shipped encoder as the caller gives it (`embed`)

    def logits(self, features: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(features @ self.coef + self.intercept).ravel() / self.scale


@dataclass(frozen=True)
class Gate:
    """The first stage: a head over what costs no encoder run (the token vectors, the signs, the n-grams). A text
    whose every piece it scores below `logit` is cleared, and neither encoder reads it: support traffic mostly
    is (docs/guardrails.md). `logit` sits below the lowest out-of-fold logit of any development attack."""

    head: Head
    logit: float

    def reads(self, features: sparse.csr_matrix, owner: np.ndarray, n: int) -> np.ndarray:
        """Which of `n` texts (their pieces' `features`, `owner` as `features.pieces` gives) the encoders read."""
        return highest(self.head.logits(features), owner, n) >= self.logit


@dataclass(frozen=True)
class InjectionClassifier:
    heads: tuple[Head, ...]  # the first reads the shipped encoder; a second, the guard's fine-tuned one
    threshold: float
    meta: dict[str, Any]
    centroids: np.ndarray  # one unit row per attack family: the mean sentence embedding of its training rows
    families: list[str]
    words: TokenVectors | None = None  # the base model's token vectors beside the encoder's (guard_model.token_vectors)
    calibration: tuple[float, float] = (1.0, 0.0)  # a score is sigmoid(a * logit + b): `calibrated`
    gate: Gate | None = None  # guard_model.gate_margin: the first stage, which clears text before the encoders
    window: int | None = None  # guard_model.window: runs of this many neighbouring sentences are pieces too

    def scores(self, texts: list[str], embed: Embed) -> np.ndarray:
        """Probability of an injection for each text."""
        return self.explain(texts, embed)[0]

    def explain(self, texts: list[str], embed: Embed) -> tuple[np.ndarray, list[str]]:
        """Each text's probability of an injection (its highest piece's: `features.pieces`), and the attack family
        the whole text is most like (what a block names). `embed` is the shipped encoder. A text the first stage
        clears scores 0, family CLEARED, and no encoder reads it."""
        if not texts:
            return np.zeros(0), []
        parts, owner = pieces(texts, self.window)
        revealed = Revealed(parts)
        words = remembering(self.words) if self.words is not None else None  # read by every stage: computed once
        read = np.ones(len(texts), dtype=bool)
        if self.gate is not None:
            read = self.gate.reads(revealed.read(parts, words or no_vectors), owner, len(texts))
        scores, families = np.zeros(len(texts)), [CLEARED] * len(texts)
        kept = np.flatnonzero(read)
        if kept.size:
            parts, owner = of_texts(parts, owner, kept)
            features = [revealed.read(parts, beside(h.encoder or embed, words)) for h in self.heads]
            nearest = (features[0][: kept.size, :EMBEDDING_DIM].toarray() @ self.centroids.T).argmax(axis=1)
            scores[kept] = highest(self.score_features(features), owner, kept.size)
            for i, family in zip(kept, nearest, strict=True):
                families[i] = self.families[family]
        return scores, families

    def score_features(self, features: list[sparse.csr_matrix]) -> np.ndarray:
        """Probabilities from each head's features (`Revealed.read` with its encoder, in the heads' order)."""
        logits = sum(h.logits(f) for h, f in zip(self.heads, features, strict=True))
        return probabilities(np.asarray(logits), self.calibration)

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        words = {"word_mean": self.words.mean, "word_scale": self.words.scale} if self.words else {}
        optional = {}
        if len(self.heads) > 1:
            optional = {"tuned_coef": self.heads[1].coef, "tuned_intercept": [self.heads[1].intercept]}
        if self.gate is not None:
            optional |= {"gate_coef": self.gate.head.coef, "gate": [self.gate.head.intercept, self.gate.logit]}
        np.savez_compressed(
            out / WEIGHTS,
            coef=self.heads[0].coef,
            intercept=np.array([self.heads[0].intercept]),
            scales=np.array([h.scale for h in self.heads]),
            calibration=np.array(self.calibration),
            centroids=self.centroids,
            **words,
            **optional,
        )
        write_json(out / META, {**self.meta, "threshold": self.threshold, "families": self.families})


def of_texts(parts: list[str], owner: np.ndarray, kept: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The pieces of the texts numbered `kept` (ascending), owned by their places in it: what `pieces` gives for
    those texts alone, without splitting them again."""
    mask = np.isin(owner, kept)
    return [part for part, keep in zip(parts, mask, strict=True) if keep], np.searchsorted(kept, owner[mask])


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
        if (path / ENCODER).is_dir() != ("tuned_coef" in arrays):
            raise ConfigError(f"{path}: an injection classifier from an older guard; run `dvc repro guard` again")
        scales = arrays.get("scales", [1.0])
        int8 = bool(meta.get("params", {}).get("int8"))
        own = shipped(int8=True) if int8 else None
        heads = [Head(arrays["coef"], float(arrays["intercept"][0]), float(scales[0]), own)]
        if "tuned_coef" in arrays:
            tuned = load_encoder(path / ENCODER, int8=int8)
            heads.append(Head(arrays["tuned_coef"], float(arrays["tuned_intercept"][0]), float(scales[1]), tuned))
        words = TokenVectors(arrays["word_mean"], arrays["word_scale"]) if "word_mean" in arrays else None
        if words is not None:
            token_vectors.ready()
        a, b = arrays.get("calibration", (1.0, 0.0))
        family_rows = arrays["centroids"]
        gate = None
        if "gate_coef" in arrays:
            intercept, logit = arrays["gate"]
            gate = Gate(Head(arrays["gate_coef"], float(intercept)), float(logit))
    window = meta.get("params", {}).get("window")
    return InjectionClassifier(
        tuple(heads),
        float(meta["threshold"]),
        meta,
        family_rows,
        meta["families"],
        words,
        (float(a), float(b)),
        gate,
        window,
    )


def fit(
    texts: list[str], labels: list[int], families: list[str], embed: Embed, regularization: float
) -> InjectionClassifier:
    features = featurize(texts, embed)
    return InjectionClassifier(
        (fit_head(features, labels, regularization),), 0.5, {}, *centroids(features, labels, families)
    )


def fit_head(features: sparse.csr_matrix, labels: list[int], regularization: float) -> Head:
    """A balanced logistic regression: attacks and benign weigh the same however many of each."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=regularization, class_weight="balanced", max_iter=2000, solver="liblinear")
    model.fit(features, np.asarray(labels))
    return Head(model.coef_.ravel().astype(np.float32), float(model.intercept_[0]))


def centroids(features: sparse.csr_matrix, labels: list[int], families: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each attack family's unit centroid of mean sentence embeddings, and the families in the centroids' order."""
    mean_embeddings = features[:, :EMBEDDING_DIM].toarray()
    names = sorted({f for f, label in zip(families, labels, strict=True) if label})
    rows = np.stack([mean_embeddings[[f == name for f in families]].mean(axis=0) for name in names])
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32), names


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
