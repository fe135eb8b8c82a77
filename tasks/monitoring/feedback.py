"""Human feedback from the request log, as training records: a dated snapshot that the pipeline reads.

The request log is a live database, so it stays out of DVC's graph: `llmops feedback` (and the retrain flow,
before its stages) writes a snapshot into data/feedback/snapshot and tracks it with `dvc add`; the prepare stage
depends on that folder like on any other input. `dvc repro` and `dvc exp run` are then functions of tracked
files, and a snapshot whose records did not change is left as it was (nothing downstream reruns).

Feedback comes two ways: through `/feedback` (into the request log, and onto the request's MLflow trace), and
from reviewers who open a trace in the MLflow UI and add a feedback named `rating` (-1/0/1, or yes/no) or an
expectation named `correction` (serving/tracing.py). Both are read here; an assessment that `/feedback` wrote
carries its request-log feedback id and is not counted twice.

A served request rated good (+1) becomes its prompt plus the answer it got; one with a correction becomes its
prompt plus the corrected answer (whatever the rating). Per request, the latest correction wins over any rating
without one, even a later one (a human's answer is never undone by a click); without a correction, the latest
rating wins. Each record's id is `fb-<feedback id>` (`fb-mlflow-<assessment id>` for a review in MLflow); prepare
and split keep ids, so the training run can list exactly which feedback reached its training split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from tasks.core.errors import TrackingError
from tasks.core.files import read_jsonl, write_json, write_jsonl
from tasks.data.formats import FEEDBACK_PREFIX, JUDGE_LABELS
from tasks.monitoring.request_log import connect, feedback, requests

if TYPE_CHECKING:
    from tasks.config.schema import Params

FEEDBACK_ID = "llmops.feedback_id"  # on an MLflow assessment that /feedback wrote: its request-log row
RATING, CORRECTIONS = "rating", ("correction", "expected_response")  # the assessment names a review may use


@dataclass(frozen=True)
class Rated:
    """One rating or correction of a served request, from the request log or from a review in MLflow."""

    id: int | str
    at: datetime
    rating: int
    correction: str | None
    request_id: str
    messages: list[dict[str, str]]
    completion: str | None
    model_version: str | None
    status: int


def _feedback_rows(engine: sa.Engine) -> list[Rated]:
    """Every feedback row with the request it rates, oldest first."""
    columns = [feedback.c.id, feedback.c.created_at.label("at"), feedback.c.rating, feedback.c.correction,
               requests.c.id.label("request_id"), requests.c.messages, requests.c.completion,
               requests.c.model_version, requests.c.status]  # fmt: skip
    query = sa.select(*columns).join(requests, feedback.c.request_id == requests.c.id).order_by(feedback.c.id)
    with engine.connect() as conn:
        return [Rated(**row._asdict()) for row in conn.execute(query)]


def traces_of(params: Params) -> tuple[str, str] | None:
    """(tracking URI, experiment) where serving writes its traces, or None when it writes none."""
    from tasks.tracking.runs import tracking_uri

    tracing = params.serving.tracing
    return (tracking_uri(params), tracing.experiment) if tracing.sample_ratio > 0 else None


def reviewed_in_mlflow(tracking_uri: str, experiment: str) -> list[Rated]:
    """Ratings and corrections people added to traces in MLflow, not through /feedback, oldest first."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    try:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return []
        traces = {}
        for where in (f"feedback.{RATING} IS NOT NULL", *(f"expectation.{c} IS NOT NULL" for c in CORRECTIONS)):
            token = None
            while True:
                page = client.search_traces(locations=[found.experiment_id], filter_string=where, max_results=500,
                                            page_token=token)  # fmt: skip
                traces |= {t.info.trace_id: t for t in page}
                if not (token := page.token):
                    break
    except Exception as err:  # the MLflow client raises many types for one cause: the store is unusable
        raise TrackingError(f"MLflow at {tracking_uri}: reading reviewed traces of {experiment!r}: {err}") from None
    return sorted((r for t in traces.values() for r in _reviews(t)), key=lambda r: r.at)


def _reviews(trace) -> list[Rated]:
    root = next((s for s in trace.data.spans if s.parent_id is None), None)
    info = trace.info
    if root is None or not info.client_request_id:
        return []
    outputs = root.outputs if isinstance(root.outputs, dict) else {}
    served = {"request_id": info.client_request_id, "messages": (root.inputs or {}).get("messages", []),
              "completion": outputs.get("completion"), "model_version": info.trace_metadata.get("model_version"),
              "status": int(outputs.get("status") or info.trace_metadata.get("status") or 0)}  # fmt: skip
    out = []
    for a in info.assessments:
        if (a.metadata or {}).get(FEEDBACK_ID) or a.source.source_type != "HUMAN" or getattr(a, "valid", True) is False:
            continue
        at = datetime.fromtimestamp(a.create_time_ms / 1000, UTC)
        value = a.value
        if a.name == RATING and isinstance(value, (bool, int, float)):
            rating = (1 if value else -1) if isinstance(value, bool) else max(-1, min(1, round(value)))
            out.append(Rated(f"mlflow-{a.assessment_id}", at, rating, None, **served))
        elif a.name in CORRECTIONS and isinstance(value, str) and value.strip():
            out.append(Rated(f"mlflow-{a.assessment_id}", at, -1, value, **served))
    return out


def _counting(rows: list[Rated]) -> tuple[dict[str, Rated], dict[str, Rated]]:
    """(the latest row per request, the one that counts per request)."""
    latest = {row.request_id: row for row in rows}  # a person who rates twice meant the second...
    chosen = {**latest, **{row.request_id: row for row in rows if _corrects(row)}}  # ...unless it undoes a correction
    return latest, chosen


def judge_labels(rows: list[Rated]) -> list[dict[str, Any]]:
    """People's verdicts on served answers, for calibrating the evaluator LLM (tasks/evaluation/judge.py): an
    answer rated +1 is relevant and correct; one rated -1 or corrected is incorrect (the correction becomes its
    reference); whether a wrong answer was on topic nobody said, so it carries no relevance label."""
    labels = []
    for row in _counting(rows)[1].values():
        question = next((m["content"] for m in reversed(row.messages) if m["role"] == "user"), "")
        if row.status != 200 or not row.completion or not question:
            continue
        if _corrects(row):
            verdicts = {"correctness": "no", "reference": row.correction}
        elif row.rating == 1:
            verdicts = {"relevance": "yes", "correctness": "yes"}
        elif row.rating < 0:
            verdicts = {"correctness": "no"}
        else:
            continue
        labels.append({"id": f"{FEEDBACK_PREFIX}{row.id}", "question": question, "answer": row.completion,
                       **verdicts, "model_version": row.model_version})  # fmt: skip
    return labels


def training_records(rows: list[Rated]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, summary): the feedback that counts per served request, turned into chats where it says how."""
    latest, chosen = _counting(rows)
    records: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for row in chosen.values():
        if row.status != 200:
            skipped["request was not served"] += 1
            continue
        if _corrects(row):
            kind, answer = "correction", row.correction
        elif row.rating == 1 and row.completion:
            kind, answer = "approved", row.completion
        else:
            skipped["rated -1 or 0 without a correction" if row.rating < 1 else "no completion"] += 1
            continue
        kinds[kind] += 1
        records.append({
            "id": f"{FEEDBACK_PREFIX}{row.id}",
            "messages": [*row.messages, {"role": "assistant", "content": answer}],
            "source": "feedback",
            "feedback": kind,
            "request_id": row.request_id,
            "model_version": row.model_version,
        })  # fmt: skip
    summary = {
        "feedback_rows": len(rows),
        "rated_requests": len(latest),
        "records": len(records),
        "corrections": kinds["correction"],
        "approved": kinds["approved"],
        "skipped": dict(sorted(skipped.items())),
        "superseded": len(rows) - len(latest),
    }
    return records, summary


def _corrects(row: Rated) -> bool:
    return bool(row.correction and row.correction.strip())


RECORDS, SUMMARY, LABELS = "records.jsonl", "summary.json", JUDGE_LABELS


def _same(path: Path, rows: list[dict[str, Any]]) -> bool:
    return path.is_file() and list(read_jsonl(path)) == rows


def describe(s: dict[str, Any]) -> str:
    """What an export (its summary `s`) did, in one line: the CLI, the retrain flow's log and its summary say it."""
    counts = f"{s['records']} training records ({s['corrections']} corrected, {s['approved']} approved)"
    if not s["exported_at"]:
        return f"{counts}: no feedback yet, no snapshot written"
    return f"{counts}, {'new snapshot of' if s['changed'] else 'unchanged since'} {s['exported_at']}"


def export(url: str, folder: Path, traces: tuple[str, str] | None = None) -> dict[str, Any]:
    """Snapshot the request log's feedback, and the reviews on the traces in `traces` ((tracking URI,
    experiment): `traces_of(params)`), into `folder` (records, possibly none, and a dated summary).

    Returns the summary, with `changed` False where the records are those of the snapshot already there, or
    where there is no feedback and no snapshot yet: then nothing is written, so the folder's DVC hash, and every
    stage downstream of it, stays the same."""
    engine = connect(url)
    try:
        rows = _feedback_rows(engine)
    finally:
        engine.dispose()
    reviewed = reviewed_in_mlflow(*traces) if traces else []
    rows = sorted(rows + reviewed, key=lambda r: _utc(r.at))
    records, summary = training_records(rows)
    summary["reviewed_in_mlflow"] = len(reviewed)
    labels = judge_labels(rows)
    summary["judge_labels"] = len(labels)
    previous = folder / SUMMARY
    if not records and not labels and not previous.is_file():
        return {"exported_at": None, **summary, "changed": False}
    if previous.is_file() and _same(folder / RECORDS, records) and _same(folder / LABELS, labels):
        return {**orjson.loads(previous.read_bytes()), "changed": False}
    summary = {"exported_at": datetime.now(UTC).isoformat(timespec="seconds"), **summary}
    write_jsonl(folder / RECORDS, records)
    write_jsonl(folder / LABELS, labels)
    write_json(previous, summary)
    return {**summary, "changed": True}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC datetimes
