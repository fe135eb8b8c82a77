"""One drift check as the CLI and the drift-watch flow run it: window, reference, history, report, MLflow run.

The window is the request log's recent served prompts (or a JSONL file); earlier windows' verdicts, for the
k-of-n rule, are the tags of earlier drift runs in MLflow, so every check is a run a person can open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tasks.config.schema import Params
from tasks.core.errors import TrackingError
from tasks.core.files import user_cache
from tasks.monitoring.drift import DriftResult, draw, judge, read_prompts, read_reference, recent_prompts
from tasks.monitoring.request_log import url_of
from tasks.tracking.runs import tracking_uri, use_experiment

REQUEST_LOG = "request_log"
KIND = "llmops.kind"
STATUS = "llmops.drift.status"
VIOLATED = "llmops.drift.violated"


@dataclass(frozen=True)
class Outcome:
    result: DriftResult
    run_id: str
    report: Path  # drift.html, the Evidently report
    source: str
    answers: dict[str, dict[str, float]] = field(default_factory=dict)  # per model version (response_scores.trend)

    def answers_table(self) -> list[str]:
        """The window's answers per model version, one line each: how their online scores trend."""
        return [f"v{version}: {a['answers']:.0f} answers, refusal {a['refusal_rate']:.1%}, toxic {a['toxic_rate']:.1%}"
                f", empty {a['empty_rate']:.1%}, overlong {a['long_rate']:.1%}, {a['words_mean']:.0f} words on average"
                for version, a in self.answers.items()]  # fmt: skip


def window_prompts(params: Params, root: Path, window: str | None) -> tuple[list[str], str]:
    """(prompts, where they came from): the request log's last `window_hours`, or a JSONL file."""
    source = window or params.drift.window
    if source == REQUEST_LOG:
        url = url_of(params.serving)
        prompts = recent_prompts(url, params.drift.window_hours, params.drift.max_window)
        where = url.split("@")[-1]  # no credentials in logs and run tags
        return prompts, f"request log {where}, last {params.drift.window_hours:g} h"
    return read_prompts(root / source), source


def history(params: Params, runs: int) -> list[bool]:
    """Whether each of the last `runs` decided drift checks violated, oldest first."""
    if runs <= 0:
        return []
    import mlflow

    experiment = use_experiment(params)
    try:
        found = mlflow.search_runs(
            experiment_ids=[experiment],
            filter_string=f"tags.`{KIND}` = 'drift' and tags.`{STATUS}` != 'insufficient'",
            order_by=["attributes.start_time DESC"],
            max_results=runs,
            output_format="list",
        )
    except Exception as err:  # the MLflow client raises many types for one cause: the store is unusable
        raise TrackingError(f"MLflow at {tracking_uri(params)}: {err}") from None
    return [run.data.tags.get(VIOLATED) == "true" for run in reversed(found)]


def run(params: Params, root: Path, window: str | None = None, reason: str = "") -> Outcome:
    """Check, write data/reports/drift/*, and record the check as an MLflow run with the report attached."""
    import mlflow

    from tasks.monitoring import drift_report, response_scores

    prompts, source = window_prompts(params, root, window)
    answers = {}
    if (window or params.drift.window) == REQUEST_LOG:
        scorer = response_scores.load_scorer(root / params.serving.probes)
        answers = response_scores.trend(url_of(params.serving), params.drift.window_hours, scorer)
    reference = read_reference(root / "data" / "split" / "train.jsonl")
    earlier = history(params, params.drift.decide_n - 1)
    sample = draw(reference, prompts, params.drift, user_cache("embeddings"))
    result = judge(sample, params.drift, earlier)
    out = root / "data" / "reports" / "drift"
    use_experiment(params)
    with mlflow.start_run(run_name="drift-check") as active:
        run_id = active.info.run_id
        files = drift_report.write(result, sample, out, params.drift.html_report)
        mlflow.set_tags({KIND: "drift", STATUS: result.status, VIOLATED: str(result.violated).lower(),
                         "llmops.drift.reason": result.reason[:5000], "llmops.drift.source": source,
                         "llmops.drift.trigger": reason or "manual"})  # fmt: skip
        mlflow.log_params({"drift.window": source, **{f"drift.{k}": v for k, v in params.drift.model_dump().items()
                                                       if k != "window"}})  # fmt: skip
        metrics = {"drift.window_prompts": result.window, "drift.reference_prompts": result.reference}
        for c in result.checks:
            metrics |= {f"drift.{c.name}.p_value": c.p_value, f"drift.{c.name}.effect": c.effect,
                        f"drift.{c.name}.fired": float(c.fired)}  # fmt: skip
        if result.clusters:  # the embedding map: how much recent traffic sits in topics training hardly saw
            new = [c for c in result.clusters if c["new"]]
            metrics |= {"drift.map.new_clusters": len(new), "drift.map.new_share": sum(c["window"] for c in new)}
        for version, scores in answers.items():
            metrics |= {f"answers.v{version}.{k}": v for k, v in scores.items()}
        mlflow.log_metrics(metrics)
        for path in files:
            mlflow.log_artifact(str(path), artifact_path="drift")
    return Outcome(result, run_id, files[-1], source, answers)
