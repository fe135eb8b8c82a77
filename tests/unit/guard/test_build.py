"""The guard stage with a fine-tuned encoder (guard_model.encoder_epochs > 0): a second head over it, a threshold
from scores no encoder was tuned on, and a saved classifier that scores as the build measured it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from tasks.config.schema import GuardModelParams, Params
from tasks.data.pii import scrub
from tasks.guard import build as guard_build
from tasks.guard.build import build, cross_fitted, flat_metrics, measure
from tasks.guard.classifier import load
from tasks.guard.corpus import read_corpus, write_corpus
from tasks.models.embeddings import embed

TINY = GuardModelParams(
    per_template=1, support_rows=100, encoder_epochs=1, encoder_max_tokens=32, token_vectors=False, threshold_folds=3
)


def test_the_build_saves_both_heads_and_they_score_as_it_measured(tmp_path: Path, monkeypatch) -> None:
    """Every development row gets a fine-tuned score from an encoder and a head that never saw its template (the
    threshold's pool), and the saved classifier scores the test split as the build measured it."""
    unseen: list[np.ndarray] = []
    monkeypatch.setattr(guard_build, "cross_fitted", lambda *args: unseen.append(cross_fitted(*args)) or unseen[0])
    write_corpus(TINY, tmp_path / "corpus.jsonl")
    metrics = build(Params(guard_model=TINY), tmp_path / "corpus.jsonl", tmp_path / "model", embed)
    dev = [r for r in read_corpus(tmp_path / "corpus.jsonl") if r["split"] != "test"]
    assert np.isfinite(unseen[0]).all() and len(unseen[0]) == len(dev)
    assert roc_auc_score([r["label"] for r in dev], unseen[0]) > 0.8
    classifier = load(tmp_path / "model")
    assert len(classifier.heads) == 2 and classifier.heads[0].encoder and classifier.heads[1].encoder  # int8 both
    assert all(h.scale > 0 for h in classifier.heads) and classifier.calibration != (1.0, 0.0)
    test = [r for r in read_corpus(tmp_path / "corpus.jsonl") if r["split"] == "test"]
    scores = classifier.scores([scrub(r["text"]) for r in test], embed)
    assert measure(test, scores, classifier.threshold) == metrics["test"]
    assert classifier.gate is not None and metrics["first_stage"]["logit"] == round(classifier.gate.logit, 3)
    assert flat_metrics(metrics)["first_stage_cleared_support"] == metrics["first_stage"]["support"]
    assert metrics["cross_validation"]["attacks"] + metrics["cross_validation"]["benign"] == sum(
        metrics["rows"][s] for s in ("train", "validation")
    )
