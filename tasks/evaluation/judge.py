"""An evaluator LLM that scores test answers, trusted only as far as it agrees with people.

The judge is any OpenAI-compatible endpoint (`evaluate.judge`): a larger model behind vLLM, a hosted API, or by
default the project's own server with the base model (started by the CLI; offline). Each criterion in
templates/judges.yaml is an MLflow scorer run by `mlflow.genai.evaluate`, so the verdicts land as assessments
on traces in the training run (MLflow UI: the run's Traces tab):

relevance     does the answer address the question?                 every answer
correctness   is it consistent with the reference answer?            answers with a reference
groundedness  is every fact supported by the retrieved context?     answers with context (none until retrieval)

Before its verdicts count, the judge scores the human-labelled set (data/judge/labels.jsonl and the labels
feedback left) in a child run `judge-calibration`; per criterion, its accuracy and Cohen's kappa against the
people are logged beside its rates. A criterion below `min_kappa` (or with fewer than `min_labels` labels) is
uncalibrated: its rate is reported, and the gate does not read it (tasks/evaluation/gate.py). With
`evaluate.judge.cache`, a reply the same judge gave to the same prompt before is not asked for again
(tasks/evaluation/judge_cache.py).
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tasks.config.metrics import JUDGED, judge_key
from tasks.config.schema import JudgeParams
from tasks.core.errors import ConfigError, DataFormatError, ModelSourceError
from tasks.core.files import read_jsonl
from tasks.data.formats import JUDGE_LABELS
from tasks.evaluation import statistics
from tasks.evaluation.judge_cache import JudgeCache

log = logging.getLogger("llmops.judge")

TEMPLATES = Path(__file__).resolve().parent / "templates" / "judges.yaml"
_VERDICT = re.compile(r"\b(yes|no)\b", re.I)


@dataclass(frozen=True)
class Item:
    """One answer to judge; `human` holds a person's verdict per criterion where there is one."""

    id: str
    question: str
    answer: str
    reference: str | None = None
    context: str | None = None
    human: dict[str, str] | None = None


@dataclass(frozen=True)
class Endpoint:
    url: str  # the /v1 base URL
    model: str
    api_key: str | None = None
    identity: str | None = None  # what its replies depend on, naming them in the cache; None: not cached


@cache
def criteria() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))


def applies(criterion: str, item: Item) -> bool:
    return all(getattr(item, need) for need in criteria()[criterion]["needs"])


def endpoint(cfg: JudgeParams, own_server: Endpoint | None) -> Endpoint:
    """The configured endpoint (named by its URL and model, which evaluate.judge.cache trusts to pin the weights),
    or the project's own server the caller started (named by the weights it serves)."""
    if cfg.base_url:
        url = cfg.base_url.rstrip("/")
        identity = f"{url} {cfg.model}" if cfg.cache else None
        return Endpoint(url, cfg.model, os.environ.get(cfg.api_key_env) or None, identity)
    if own_server is None:
        raise ConfigError("evaluate.judge: no endpoint; set base_url, or run `llmops evaluate`, which starts this "
                          "project's server for the judge when base_url is null")  # fmt: skip
    return own_server if cfg.cache else replace(own_server, identity=None)


def reachable(cfg: JudgeParams, ep: Endpoint) -> None:
    """One short call before any verdict: a judge that is down fails the evaluation (so the gate refuses it)
    instead of leaving every verdict empty, which would read as an uncalibrated judge and pass its checks."""
    from openai import APIError, OpenAI

    client = OpenAI(base_url=ep.url, api_key=ep.api_key or "unused", timeout=cfg.timeout_s, max_retries=2)
    try:
        client.chat.completions.create(model=ep.model, messages=[{"role": "user", "content": "Answer yes or no: ok?"}],
                                       max_tokens=1, temperature=0)  # fmt: skip
    except APIError as err:
        raise ModelSourceError(
            f"evaluate.judge: the judge at {ep.url} (model {ep.model}) did not answer: {err}; "
            "check evaluate.judge.base_url, model and its key in $" + cfg.api_key_env
        ) from None


def verdict(reply: str) -> str | None:
    """The first yes or no in a reply ("Yes, the answer ..." -> "yes"); None when it says neither."""
    found = _VERDICT.search(reply or "")
    return found.group(1).lower() if found else None


def scorers(cfg: JudgeParams, ep: Endpoint, names: list[str], cache: JudgeCache | None = None) -> list:
    return [_make_judge(cfg, ep, n) if cfg.style == "make_judge" else _yes_no(cfg, ep, n, cache) for n in names]


def _yes_no(cfg: JudgeParams, ep: Endpoint, name: str, cache: JudgeCache | None):
    from mlflow.entities import AssessmentSource, Feedback
    from mlflow.genai.scorers import scorer
    from openai import OpenAI

    client = OpenAI(base_url=ep.url, api_key=ep.api_key or "unused", timeout=cfg.timeout_s, max_retries=3)
    template = criteria()[name]["question"]

    def judge(inputs: dict, outputs: str, expectations: dict | None = None) -> Feedback:
        prompt = template.format(question=inputs["question"], answer=outputs, context=inputs.get("context", ""),
                                 reference=(expectations or {}).get("expected_response", ""))  # fmt: skip
        text = cache.get(prompt, cfg.max_tokens) if cache else None
        if text is None:
            reply = client.chat.completions.create(
                model=ep.model, messages=[{"role": "user", "content": prompt}], max_tokens=cfg.max_tokens, temperature=0
            )
            text = reply.choices[0].message.content or ""
            if cache:
                cache.put(prompt, cfg.max_tokens, text)
        value = verdict(text)
        if value is None:
            raise ValueError(f"no yes or no in the judge's reply: {text[:200]!r}")
        source = AssessmentSource(source_type="LLM_JUDGE", source_id=f"{ep.model}@{ep.url}")
        return Feedback(name=name, value=value, rationale=text, source=source)

    return scorer(judge, name=name)


def _make_judge(cfg: JudgeParams, ep: Endpoint, name: str):
    from typing import Literal

    from mlflow.genai.judges import make_judge

    return make_judge(name=name, instructions=criteria()[name]["instructions"], model=f"openai:/{ep.model}",
                      feedback_value_type=Literal["yes", "no"], base_url=f"{ep.url}/chat/completions",
                      inference_params={"temperature": 0, "max_tokens": cfg.max_tokens})  # fmt: skip


def judge(
    cfg: JudgeParams, ep: Endpoint, items: list[Item], cache: JudgeCache | None = None
) -> dict[str, dict[str, str | None]]:
    """criterion -> item id -> "yes" / "no" / None (no verdict), through mlflow.genai.evaluate in the active run
    (yes_no replies from `cache` where it has them: MLflow's make_judge calls the model itself)."""
    import mlflow

    names = [n for n in JUDGED if any(applies(n, it) for it in items)]
    if not names:
        return {}
    data = []
    for it in items:
        inputs = {"id": it.id, "question": it.question, **({"context": it.context} if it.context else {})}
        data.append({"inputs": inputs, "outputs": it.answer,
                     "expectations": {"expected_response": it.reference or ""}})  # fmt: skip
    # rows at once, each running its criteria side by side: what the endpoint batches (and sqlite's pool) bears
    limits = {
        "MLFLOW_GENAI_EVAL_MAX_WORKERS": str(cfg.concurrency),
        "MLFLOW_GENAI_EVAL_MAX_SCORER_WORKERS": str(len(names)),
        "OPENAI_API_KEY": ep.api_key or "unused",
    }  # make_judge's openai provider reads its key here
    with _environment(limits):
        frame = mlflow.genai.evaluate(data=data, scorers=scorers(cfg, ep, names, cache)).result_df
    applicable = {n: {it.id for it in items if applies(n, it)} for n in names}
    out: dict[str, dict[str, str | None]] = {n: dict.fromkeys(sorted(applicable[n])) for n in names}
    for _, row in frame.iterrows():
        item_id = row["request"]["id"]
        for n in names:
            value = row.get(f"{n}/value")
            if item_id in applicable[n]:
                out[n][item_id] = value if value in ("yes", "no") else None
    return out


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def agreement(verdicts: dict[str, str | None], human: dict[str, str]) -> dict[str, float]:
    """Accuracy and Cohen's kappa over the items a person labelled; no verdict counts as a disagreement."""
    from sklearn.metrics import cohen_kappa_score

    ids = [i for i in human if i in verdicts]
    if not ids:
        return {"labels": 0.0}
    ours = [verdicts[i] or "none" for i in ids]
    theirs = [human[i] for i in ids]
    accuracy = sum(a == b for a, b in zip(ours, theirs, strict=True)) / len(ids)
    kappa = cohen_kappa_score(ours, theirs) if len(set(ours) | set(theirs)) > 1 else 0.0
    return {"labels": float(len(ids)), "accuracy": float(accuracy), "kappa": float(kappa if kappa == kappa else 0)}


def labelled_items(cfg: JudgeParams, feedback_dir: Path | None, seed: int = 0) -> list[Item]:
    """The hand-labelled set first, then feedback labels (seeded sample), up to max_labels."""
    path = Path(cfg.labels)
    if not path.is_file():
        raise DataFormatError(f"{path}: the judge's labelled set is missing (evaluate.judge.labels)")
    hand = [_labelled(row, path, n) for n, row in enumerate(read_jsonl(path), start=1)]
    feedback_path = feedback_dir / JUDGE_LABELS if feedback_dir else None
    fed = []
    if feedback_path and feedback_path.is_file():
        fed = [_labelled(row, feedback_path, n) for n, row in enumerate(read_jsonl(feedback_path), start=1)]
        random.Random(seed).shuffle(fed)
    return (hand + fed)[: cfg.max_labels]


def _labelled(row: dict, path: Path, line: int) -> Item:
    human = {c: row[c] for c in JUDGED if row.get(c) in ("yes", "no")}
    if not row.get("question") or not isinstance(row.get("answer"), str) or not human:
        raise DataFormatError(
            f"{path}:{line}: a label needs `question`, `answer` and a yes/no for at least one of {', '.join(JUDGED)}"
        )
    return Item(str(row.get("id", f"{path.stem}-{line}")), row["question"], row["answer"], row.get("reference"),
                row.get("context"), human)  # fmt: skip


def answers(examples: list[dict], max_rows: int) -> list[Item]:
    """The test replies to judge, with their references."""
    rows = [e for e in examples if e["kind"] == "test"][:max_rows]
    return [Item(str(e["id"]), e["prompt"], e["reply"], e["reference"]) for e in rows]


def evaluate_with_judge(
    cfg: JudgeParams, ep: Endpoint, examples: list[dict], labelled: list[Item], run_id: str
) -> dict[str, Any]:
    """Calibrate on the labelled set (child run), then judge the test answers (in the training run): metrics."""
    import mlflow

    started = time.perf_counter()
    reachable(cfg, ep)
    cache = JudgeCache(ep.identity) if ep.identity and cfg.style == "yes_no" else None
    with mlflow.start_run(run_id=run_id):
        with mlflow.start_run(run_name="judge-calibration", nested=True):
            calibration = judge(cfg, ep, labelled, cache)
            agreements = {}
            for name, verdicts in calibration.items():
                human = {it.id: it.human[name] for it in labelled if it.human and name in it.human}
                agreements[name] = agreement(verdicts, human)
                mlflow.log_metrics({f"{name}_{k}": v for k, v in agreements[name].items()})
        scored = judge(cfg, ep, answers(examples, cfg.max_rows), cache)
    metrics: dict[str, Any] = {}
    for name, verdicts in scored.items():
        said = [v for v in verdicts.values() if v is not None]
        agreed = agreements.get(name, {"labels": 0.0})
        calibrated = agreed["labels"] >= cfg.min_labels and agreed.get("kappa", -1.0) >= cfg.min_kappa
        metrics |= {
            judge_key(name): said.count("yes") / len(said) if said else float("nan"),
            statistics.count_key(judge_key(name)): len(said),
            judge_key(name, "unparsed"): 1 - len(said) / len(verdicts) if verdicts else 1.0,
            judge_key(name, "calibrated"): float(calibrated),
            **{judge_key(name, k): v for k, v in agreed.items()},
        }
    metrics |= statistics.with_intervals(metrics)
    metrics["judge_min_kappa"] = cfg.min_kappa
    metrics["judge_seconds"] = round(time.perf_counter() - started, 1)
    metrics["judge"] = {"endpoint": ep.url, "model": ep.model, "style": cfg.style, "identity": ep.identity}
    cached = ""
    if cache:  # replies the cache gave, of every reply read
        metrics["judge_cached"], metrics["judge_replies"] = cache.hits, cache.hits + cache.misses
        cached = f" ({cache.hits} of {cache.hits + cache.misses} replies from the cache)"
    log.info("judge %s at %s: %s in %.0f s%s", ep.model, ep.url, "; ".join(describe(metrics)),
             metrics["judge_seconds"], cached)  # fmt: skip
    return metrics


def describe(metrics: dict[str, Any]) -> list[str]:
    """One line per judged criterion: its yes rate, its agreement with people, and whether it may gate."""
    lines = []
    for name in JUDGED:
        if judge_key(name) in metrics:
            kappa = metrics.get(judge_key(name, "kappa"), float("nan"))
            gates = "calibrated" if metrics.get(judge_key(name, "calibrated")) else "uncalibrated: not gating"
            lines.append(f"{name} {metrics[judge_key(name)]:.2f} of {metrics[judge_key(name, 'rate_n')]:g} answers "
                         f"(kappa {kappa:.2f} with people, {gates})")  # fmt: skip
    return lines
