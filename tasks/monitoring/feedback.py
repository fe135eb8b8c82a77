"""Human feedback from the request log, as training records: the `feedback` stage's export.

A served request rated good (+1) becomes its prompt plus the answer it got; one with a correction becomes its
prompt plus the corrected answer (whatever the rating). Per request, the latest correction wins over any rating
without one, even a later one (a human's answer is never undone by a click); without a correction, the latest
rating wins. Each record's id is `fb-<feedback id>`; prepare and
split keep ids, so the training run can list exactly which feedback reached its training split.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tasks.core.files import write_json, write_jsonl
from tasks.data.formats import FEEDBACK_PREFIX
from tasks.monitoring.request_log import connect, feedback, requests


def training_records(engine: sa.Engine) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, summary): the feedback that counts per served request, turned into chats where it says how."""
    columns = [feedback.c.id, feedback.c.rating, feedback.c.correction, requests.c.id.label("request_id"),
               requests.c.messages, requests.c.completion, requests.c.model_version, requests.c.status]  # fmt: skip
    query = sa.select(*columns).join(requests, feedback.c.request_id == requests.c.id).order_by(feedback.c.id)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    latest = {row.request_id: row for row in rows}  # a person who rates twice meant the second...
    chosen = {**latest, **{row.request_id: row for row in rows if _corrects(row)}}  # ...unless it undoes a correction
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


def export(url: str, out: Path) -> dict[str, Any]:
    """Write the records (possibly none) to `out` and the summary beside it."""
    engine = connect(url)
    try:
        records, summary = training_records(engine)
    finally:
        engine.dispose()
    write_jsonl(out, records)
    write_json(out.parent / "summary.json", summary)
    return summary
