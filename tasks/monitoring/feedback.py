"""Human feedback from the request log, as training records: a dated snapshot that the pipeline reads.

The request log is a live database, so it stays out of DVC's graph: `llmops feedback` (and the retrain flow,
before its stages) writes a snapshot into data/feedback/snapshot and tracks it with `dvc add`; the prepare stage
depends on that folder like on any other input. `dvc repro` and `dvc exp run` are then functions of tracked
files, and a snapshot whose records did not change is left as it was (nothing downstream reruns).

A served request rated good (+1) becomes its prompt plus the answer it got; one with a correction becomes its
prompt plus the corrected answer (whatever the rating). Per request, the latest correction wins over any rating
without one, even a later one (a human's answer is never undone by a click); without a correction, the latest
rating wins. Each record's id is `fb-<feedback id>`; prepare and
split keep ids, so the training run can list exactly which feedback reached its training split.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from tasks.core.files import read_jsonl, write_json, write_jsonl
from tasks.data.formats import FEEDBACK_PREFIX, JUDGE_LABELS
from tasks.monitoring.request_log import connect, feedback, requests


def _feedback_rows(engine: sa.Engine) -> list[sa.Row]:
    """Every feedback row with the request it rates, oldest first."""
    columns = [feedback.c.id, feedback.c.rating, feedback.c.correction, requests.c.id.label("request_id"),
               requests.c.messages, requests.c.completion, requests.c.model_version, requests.c.status]  # fmt: skip
    query = sa.select(*columns).join(requests, feedback.c.request_id == requests.c.id).order_by(feedback.c.id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def _counting(rows: list[sa.Row]) -> tuple[dict[int, sa.Row], dict[int, sa.Row]]:
    """(the latest row per request, the one that counts per request)."""
    latest = {row.request_id: row for row in rows}  # a person who rates twice meant the second...
    chosen = {**latest, **{row.request_id: row for row in rows if _corrects(row)}}  # ...unless it undoes a correction
    return latest, chosen


def judge_labels(rows: list[sa.Row]) -> list[dict[str, Any]]:
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


def training_records(rows: list[sa.Row]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
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


def _corrects(row: sa.Row) -> bool:
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


def export(url: str, folder: Path) -> dict[str, Any]:
    """Snapshot the request log's feedback into `folder` (records, possibly none, and a dated summary).

    Returns the summary, with `changed` False where the records are those of the snapshot already there, or
    where there is no feedback and no snapshot yet: then nothing is written, so the folder's DVC hash, and every
    stage downstream of it, stays the same."""
    engine = connect(url)
    try:
        rows = _feedback_rows(engine)
    finally:
        engine.dispose()
    records, summary = training_records(rows)
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
