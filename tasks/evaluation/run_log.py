"""What an evaluation records on the run it evaluates: metrics, examples, plots, the HTML report, its status."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.config.schema import Params
from tasks.core.errors import TrackingError
from tasks.core.files import atomic_writer
from tasks.evaluation import statistics
from tasks.tracking.runs import tracking_uri, use_experiment

if TYPE_CHECKING:
    from tasks.evaluation.paths import EvalPaths

EVAL_STATUS = "llmops.eval.status"
TEST_MD5, INDEX_VERSION = "llmops.eval.test_md5", "llmops.eval.index_version"  # what the run was evaluated on
PARITY_TAG = "llmops.parity"  # passed | failed: the served GGUF against the transformers model (evaluation.parity)
PARITY_REASON_TAG = "llmops.parity.reason"
ROWS_ARTIFACT = "evaluation/rows.json"  # per-row test values of the model and its base, for the gate's paired tests


def mark_evaluation(params: Params, run_id: str, status: str, reason: str = "") -> None:
    """`running` before any metric is written and `complete` after the last artifact, so the deploy gate
    can tell a finished evaluation from a partial or crashed one."""
    from mlflow.tracking import MlflowClient

    use_experiment(params)
    client = MlflowClient()
    try:
        client.set_tag(run_id, EVAL_STATUS, status)
        if status == "running":
            tags = client.get_run(run_id).data.tags
            for tag in (PARITY_TAG, PARITY_REASON_TAG):  # a new evaluation needs its own parity check
                if tag in tags:
                    client.delete_tag(run_id, tag)
        if reason:
            client.set_tag(run_id, "llmops.eval.error", reason[:5000])
    except Exception as err:  # the run or the store is gone: the caller's evaluation cannot be recorded
        raise TrackingError(f"MLflow run {run_id} at {tracking_uri(params)}: {err}") from None


def log_evaluation(
    run_id: str,
    paths: EvalPaths,
    summary: dict[str, Any],
    examples: list[dict],
    baseline: dict[str, Any] | None,
    base_examples: list[dict] | None,
) -> None:
    """Metrics (eval.* and eval_base.*), the per-example table, per-row values, plots and the HTML report, then
    `complete`."""
    import pandas as pd
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    from tasks.evaluation import report as eval_report

    client = MlflowClient()
    now = int(time.time() * 1000)
    metrics = [Metric(f"eval.{k}", float(v), now, 0) for k, v in summary.items() if _is_number(v)]
    metrics += [Metric(f"eval_base.{k}", float(v), now, 0) for k, v in (baseline or {}).items() if _is_number(v)]
    client.log_batch(run_id, metrics=metrics)
    table = pd.DataFrame([{**e, "leaked": ", ".join(e.get("leaked", [])), "refusal": ", ".join(e.get("refusal", [])),
                           "toxic": ", ".join(e.get("toxic", []))} for e in examples])  # fmt: skip
    client.log_table(run_id, data=table, artifact_file="evaluation/examples.json")
    images = eval_report.plots(summary, examples, baseline, base_examples)
    page = eval_report.html(run_id, summary, examples, baseline, base_examples, images)
    with tempfile.TemporaryDirectory(prefix="llmops-eval-") as tmp:
        for name, png in images.items():
            (Path(tmp) / name).write_bytes(png)
        (Path(tmp) / "report.html").write_text(page, encoding="utf-8")
        client.log_artifacts(run_id, tmp, artifact_path="evaluation")
    client.log_dict(run_id, summary, "evaluation/metrics.json")
    rows = {"model": statistics.row_table(examples), "base": statistics.row_table(base_examples or [])}
    client.log_dict(run_id, rows, ROWS_ARTIFACT)
    if paths.report:
        with atomic_writer(paths.report) as fh:
            fh.write(page.encode("utf-8"))
    client.set_tag(run_id, TEST_MD5, summary["test_md5"])
    client.set_tag(run_id, INDEX_VERSION, summary.get("index_version") or "none")
    client.set_tag(run_id, "llmops.eval.dtype", summary["dtype"])
    client.set_tag(run_id, EVAL_STATUS, "complete")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def logged_rows(client, run_id: str) -> dict[str, statistics.RowTable]:
    """The per-row values an evaluation logged ({"model": ..., "base": ...}); empty for a run logged before them."""
    import orjson
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory(prefix="llmops-rows-") as tmp:
        try:
            path = client.download_artifacts(run_id, ROWS_ARTIFACT, tmp)
        except (MlflowException, OSError):
            return {}
        return orjson.loads(Path(path).read_bytes())
