"""The index the training rows are grounded on, pinned, so that a help-centre edit is not a new training set.

Training and validation rows carry the chunks retrieved for them: grounded on the live index, every article edit
would change them and DVC would retrain. `llmops pin-index` copies the live table to `context.pinned_index`; while
that folder holds the table, the `context` stage grounds training and validation rows on it and only the test rows
(what the gate judges, and what the server retrieves from) on the live index. An edited price then reruns `index`,
the test rows and the evaluations, and the champion is decided on again (`llmops deploy`) without a new model. A
retrain should learn what the help centre says now: the retrain flow re-pins a pinned index before grounding.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from tasks.config.schema import Params
from tasks.core.errors import ModelSourceError
from tasks.core.files import write_json
from tasks.knowledge.index import connect
from tasks.knowledge.retrieve import Retriever, content_version, open_table

PIN_FILE = "pin.json"


def pinned(p: Params) -> dict[str, Any] | None:
    """What was pinned (version, source, when), or None: the training rows follow the live index."""
    record = Path(p.context.pinned_index) / PIN_FILE
    return orjson.loads(record.read_bytes()) if record.is_file() else None


def pinned_retriever(p: Params, embed: Callable[[list[str]], np.ndarray]) -> Retriever | None:
    """The pinned table to ground training and validation rows on; None when nothing is pinned."""
    if pinned(p) is None:
        return None
    broken = "the pin is broken: pin again with `llmops pin-index`, or unpin with `llmops pin-index --clear`"
    return Retriever(p.context.pinned_index, p.index.table, embed, what_to_do=broken)


def pin(p: Params) -> dict[str, Any]:
    """Copy the live table (a folder or an object-store URI) into the pin folder, replacing what was there."""
    table = open_table(p.index.uri, p.index.table).to_arrow()
    folder = Path(p.context.pinned_index)
    unpin(p)
    connect(str(folder)).create_table(p.index.table, data=table, mode="overwrite")
    record = {"version": content_version(table), "source": p.index.uri,
              "chunks": table.num_rows, "pinned_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    write_json(folder / PIN_FILE, record)
    return record


def unpin(p: Params) -> None:
    """Back to the live index: the pin's table and record go, the folder's README stays."""
    folder = Path(p.context.pinned_index)
    (folder / PIN_FILE).unlink(missing_ok=True)
    shutil.rmtree(folder / f"{p.index.table}.lance", ignore_errors=True)


def refresh(p: Params) -> dict[str, Any] | None:
    """A pinned index moved to the live one where they differ (what a retrain does before grounding); None when
    nothing is pinned. Unchanged content is not copied again, so DVC sees the pin folder unchanged."""
    record = pinned(p)
    if record is None:
        return None
    try:
        live = content_version(open_table(p.index.uri, p.index.table))
    except ModelSourceError:
        return record  # not built yet: the index stage builds it, and the flow refreshes again after it
    return record if live == record["version"] else pin(p)
