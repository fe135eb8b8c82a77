"""What a person looks at after an evaluation: comparison plots (PNG) and one self-contained HTML page."""

from __future__ import annotations

import base64
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tasks.config.metrics import FAIRNESS, JUDGED, gap_key, judge_key
from tasks.core.plots import scatter_by_label, to_png
from tasks.evaluation.gate import DIRECTION

TEMPLATES = Path(__file__).resolve().parent / "templates"
SAFETY = ("pii", "injection", "benign")  # the probe kinds with a verdict per reply
SCORES = ("rougeL", "bleu", "exact_match", "intent_accuracy", "fact_accuracy", "faithfulness", "refusal_rate",
          "toxicity_rate", "pii_leak_rate", "pii_leak_rate_served", "injection_follow_rate",
          "injection_follow_rate_served", "over_refusal_rate", "over_refusal_rate_served")  # fmt: skip


def _interval_errors(metrics: dict, names: list[str]) -> list[list[float]]:
    """Error bars from each rate's Wilson interval (none for scores without one)."""
    value = [metrics.get(m, np.nan) for m in names]
    low = [v - metrics.get(f"{m}_lower", v) for m, v in zip(names, value, strict=True)]
    high = [metrics.get(f"{m}_upper", v) - v for m, v in zip(names, value, strict=True)]
    return [low, high]


def metrics_plot(tuned: dict, base: dict | None) -> bytes:
    names = [m for m in SCORES if m in tuned]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [4, 1]})
    y = np.arange(len(names))
    if base:
        left.barh(y + 0.2, [base.get(m, np.nan) for m in names], 0.4, label="base", color="#9e9e9e",
                  xerr=_interval_errors(base, names), capsize=2)  # fmt: skip
    left.barh(y - 0.2, [tuned[m] for m in names], 0.4, label="fine-tuned", color="#1f77b4",
              xerr=_interval_errors(tuned, names), capsize=2)  # fmt: skip
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("score or rate (0-1)")
    left.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=2, frameon=False)
    labels = ["base", "fine-tuned"] if base else ["fine-tuned"]
    values = [base["perplexity"], tuned["perplexity"]] if base else [tuned["perplexity"]]
    right.bar(labels, values, color=["#9e9e9e", "#1f77b4"][-len(values) :])
    right.set_ylim(0, max(values) * 1.15)
    right.set_title("perplexity")
    return to_png(fig)


def intent_plot(tuned: list[dict], base: list[dict] | None) -> bytes:
    def by_intent(rows: list[dict]) -> dict[str, float]:
        groups: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            if row["kind"] == "test" and row.get("intent"):
                groups[row["intent"]].append(row["rougeL"])
        return {k: float(np.mean(v)) for k, v in groups.items()}

    ours = by_intent(tuned)
    theirs = by_intent(base) if base else {}
    names = sorted(ours)
    fig, ax = plt.subplots(figsize=(10, max(3, 0.28 * len(names))))
    y = np.arange(len(names))
    if theirs:
        ax.barh(y + 0.2, [theirs.get(n, np.nan) for n in names], 0.4, label="base", color="#9e9e9e")
    ax.barh(y - 0.2, [ours[n] for n in names], 0.4, label="fine-tuned", color="#1f77b4")
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mean ROUGE-L")
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=2, frameon=False)
    return to_png(fig)


def length_plot(tuned: list[dict], base: list[dict] | None) -> bytes:
    def words(rows: list[dict], key: str) -> list[int]:
        return [len(r[key].split()) for r in rows if r["kind"] == "test"]

    fig, ax = plt.subplots(figsize=(7, 3.5))
    series = [("reference", words(tuned, "reference")), ("fine-tuned", words(tuned, "reply"))]
    if base:
        series.append(("base", words(base, "reply")))
    top = max(max(v, default=1) for _, v in series)
    bins = np.linspace(0, top + 1, 30)
    for name, values in series:
        ax.hist(values, bins=bins, alpha=0.5, label=name)
    ax.set_xlabel("reply length (words)")
    ax.set_ylabel("test rows")
    ax.legend()
    return to_png(fig)


def fairness_plot(groups: dict[str, dict[str, float]]) -> bytes:
    """Per group of askers: refusal rate and intent accuracy side by side (the neutral asker first)."""
    names = list(groups)
    fig, ax = plt.subplots(figsize=(10, max(3, 0.35 * len(names))))
    y = np.arange(len(names))
    for offset, metric, color in ((-0.2, "refusal_rate", "#b3261e"), (0.2, "intent_accuracy", "#1f77b4")):
        ax.barh(y + offset, [groups[n].get(metric, np.nan) for n in names], 0.4, label=metric, color=color)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("rate over the same requests, as served")
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=2, frameon=False)
    return to_png(fig)


def embedding_plot(examples: list[dict]) -> bytes | None:
    """Prompts by intent; replies by the intent asked, an x where the reply answers another; fairness replies by
    group of askers. One set of axes (PCA of the test prompts and replies)."""
    tests = [e for e in examples if e["kind"] == "test" and "reply_xy" in e]
    fair = [e for e in examples if e["kind"] == "fairness" and "reply_xy" in e]
    if not tests:
        return None
    panels = 3 if fair else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.6), sharex=True, sharey=True)
    intents = [e.get("intent") or "unlabelled" for e in tests]
    scatter_by_label(axes[0], [e["prompt_xy"] for e in tests], intents, "test prompts, by intent")
    wrong = ["x" if e.get("predicted_intent") not in (None, e.get("intent")) else "o" for e in tests]
    scatter_by_label(axes[1], [e["reply_xy"] for e in tests], intents,
                     "replies, by intent asked (x: answers another)", markers=wrong)  # fmt: skip
    if fair:
        groups = [e["group"].split(":")[0] for e in fair]
        scatter_by_label(axes[2], [e["reply_xy"] for e in fair], groups, "fairness replies, by kind of asker")
    return to_png(fig)


def plots(summary: dict, examples: list[dict], baseline: dict | None, base_examples: list[dict] | None) -> dict:
    """File name -> PNG bytes."""
    images = {
        "metrics_comparison.png": metrics_plot(summary, baseline),
        "rougeL_by_intent.png": intent_plot(examples, base_examples),
        "reply_lengths.png": length_plot(examples, base_examples),
    }
    if summary.get("fairness_groups"):
        images["fairness_by_group.png"] = fairness_plot(summary["fairness_groups"])
    if (embedding := embedding_plot(examples)) is not None:
        images["embedding_map.png"] = embedding
    return images


def fairness_rows(summary: dict) -> tuple[list[str], list[dict]]:
    """(metric names, one row per group of askers), and a last row with each metric's gap, interval and p."""
    groups: dict[str, dict[str, float]] = summary.get("fairness_groups") or {}
    names = [m for m in FAIRNESS if any(m in g for g in groups.values())]
    rows = [{"group": group, "values": [_fmt(values.get(m)) for m in names]} for group, values in groups.items()]
    if rows:
        gaps = []
        for m in names:
            key = gap_key(m)
            gaps.append(f"{summary[key]:.3g} [{summary[f'{key}_lower']:.3g}, {summary[f'{key}_upper']:.3g}], "
                        f"p = {summary[f'{key}_p']:.3g}" if key in summary else "")  # fmt: skip
        rows.append({"group": "largest gap [95 % interval], test", "values": gaps})
    return names, rows


def judge_rows(summary: dict) -> list[dict]:
    """One row per judged criterion: its rate with interval, and its agreement with people."""
    rows = []
    for name in JUDGED:
        if judge_key(name) not in summary:
            continue
        rows.append({"name": name, "rate": _with_interval(summary, judge_key(name)),
                     "unparsed": _fmt(summary.get(judge_key(name, "unparsed"))),
                     "labels": _fmt(summary.get(judge_key(name, "labels"))),
                     "accuracy": _fmt(summary.get(judge_key(name, "accuracy"))),
                     "kappa": _fmt(summary.get(judge_key(name, "kappa"))),
                     "calibrated": bool(summary.get(judge_key(name, "calibrated")))})  # fmt: skip
    return rows


def _fmt(value) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _with_interval(metrics: dict | None, name: str) -> str:
    """A rate as `value [low, high]` (its Wilson interval, out of n) when the evaluation reported one."""
    value = metrics.get(name) if metrics else None
    if value is None or f"{name}_lower" not in metrics:
        return _fmt(value)
    return f"{value:.4g} [{metrics[f'{name}_lower']:.3g}, {metrics[f'{name}_upper']:.3g}] of {metrics[f'{name}_n']:g}"


def _metric_rows(summary: dict, baseline: dict | None) -> list[dict]:
    rows = []
    for name, value in summary.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or name in ("rows", "probes", "seconds"):
            continue
        if name.endswith(("_n", "_lower", "_upper")) or name.startswith(("fairness_", "judge_")):  # shown with
            continue  # their rate, or in the fairness or judge table
        before = baseline.get(name) if baseline else None
        change, verdict = "", ""
        if isinstance(before, (int, float)):
            delta = value - before
            change = f"{delta:+.4g}"
            if name in DIRECTION and delta:
                verdict = "better" if delta * DIRECTION[name] > 0 else "worse"
        rows.append({"name": name, "base": _with_interval(baseline, name), "tuned": _with_interval(summary, name),
                     "change": change, "verdict": verdict})  # fmt: skip
    return rows


def _probe_verdict(example: dict) -> tuple[bool, str]:
    if example["kind"] == "pii":
        leaked = example["leaked"]
        return bool(leaked), "leaked " + ", ".join(leaked) if leaked else "no PII"
    if example["kind"] == "benign":
        return bool(example["refusal"]), "refused a benign request" if example["refusal"] else "answered"
    return example["followed"], "followed the injection" if example["followed"] else "ignored the injection"


def _probe_rows(examples: list[dict], base_examples: list[dict] | None) -> list[dict]:
    base = {(e["kind"], e["id"]): e["reply"] for e in base_examples or [] if e["kind"] in SAFETY}
    rows = []
    for e in examples:
        if e["kind"] not in SAFETY:
            continue
        bad, verdict = _probe_verdict(e)
        if "served" in e:  # what the guards made of it: blocked, mask, refuse or pass
            verdict += f"; as served: {e['served']}"
        rows.append({"id": e["id"], "prompt": e["prompt"], "base": base.get((e["kind"], e["id"]), ""),
                     "tuned": e["reply"], "verdict": verdict, "bad": bad})  # fmt: skip
    return rows


def html(
    run_id: str | None,
    summary: dict,
    examples: list[dict],
    baseline: dict | None,
    base_examples: list[dict] | None,
    images: dict[str, bytes],
    max_examples: int = 40,
) -> str:
    base_reply = {e["id"]: e["reply"] for e in base_examples or [] if e["kind"] == "test"}
    tests = [{**e, "base": base_reply.get(e["id"], "")} for e in examples if e["kind"] == "test"][:max_examples]
    titles = {"metrics_comparison.png": "Scores and rates", "rougeL_by_intent.png": "ROUGE-L by intent",
              "reply_lengths.png": "Reply lengths",
              "fairness_by_group.png": "Fairness: the same requests by group",
              "embedding_map.png": "Embedding map (MiniLM, PCA)"}  # fmt: skip
    fairness_names, fairness = fairness_rows(summary)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("eval_report.html.j2").render(
        run_id=run_id,
        summary=summary,
        metrics=_metric_rows(summary, baseline),
        plots=[(titles[name], base64.b64encode(png).decode()) for name, png in images.items()],
        probes=_probe_rows(examples, base_examples),
        examples=tests,
        fairness_names=fairness_names,
        fairness=fairness,
        judge=judge_rows(summary),
    )
