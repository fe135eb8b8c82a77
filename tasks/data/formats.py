"""Map Alpaca, chat `messages` and ShareGPT `conversations` records onto one internal schema.

Internal record: {"id", "messages": [{"role", "content"}], "intent", "source", "line"}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import orjson

from tasks.core.errors import DataFormatError

Format = Literal["alpaca", "messages", "sharegpt"]

EXPECTED = {
    "alpaca": '{"instruction": str, "input": str (optional), "output": str}',
    "messages": '{"messages": [{"role": "system|user|assistant", "content": str}, ...]}',
    "sharegpt": '{"conversations": [{"from": "system|human|gpt", "value": str}, ...]}',
}
_SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
    "model": "assistant",
}
_CHAT_ROLES = {"system", "user", "assistant"}


class SchemaIssue(ValueError):
    """A record does not fit its file's format; the message names the field."""


def detect(obj: dict[str, Any]) -> Format | None:
    if "messages" in obj:
        return "messages"
    if "conversations" in obj:
        return "sharegpt"
    if "instruction" in obj and "output" in obj:
        return "alpaca"
    return None


def _text(obj: dict[str, Any], key: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise SchemaIssue(f"missing field {key!r}")
        return ""
    if not isinstance(value, str):
        raise SchemaIssue(f"field {key!r} must be a string, got {type(value).__name__}")
    return value


def _turns(obj: dict[str, Any], key: str, role_key: str, text_key: str, roles: dict[str, str]) -> list[dict[str, str]]:
    turns = obj.get(key)
    if not isinstance(turns, list):
        raise SchemaIssue(f"field {key!r} must be a list of turns, got {type(turns).__name__}")
    messages = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise SchemaIssue(f"{key}[{i}] must be an object, got {type(turn).__name__}")
        role = turn.get(role_key)
        if role not in roles:
            raise SchemaIssue(f"{key}[{i}].{role_key} must be one of {sorted(roles)}, got {role!r}")
        messages.append({"role": roles[role], "content": _text(turn, text_key)})
    return messages


def to_messages(obj: dict[str, Any], fmt: Format) -> list[dict[str, str]]:
    if fmt == "alpaca":
        prompt = _text(obj, "instruction")
        extra = _text(obj, "input", required=False)
        user = f"{prompt}\n\n{extra}" if extra.strip() else prompt
        messages = [{"role": "user", "content": user}, {"role": "assistant", "content": _text(obj, "output")}]
    elif fmt == "messages":
        messages = _turns(obj, "messages", "role", "content", {r: r for r in _CHAT_ROLES})
    else:
        messages = _turns(obj, "conversations", "from", "value", _SHAREGPT_ROLES)
    if not any(m["role"] == "user" for m in messages) or not any(m["role"] == "assistant" for m in messages):
        raise SchemaIssue("a conversation needs at least one user and one assistant turn")
    return messages


def metadata(obj: dict[str, Any]) -> dict[str, str | None]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    intent = obj.get("intent", meta.get("intent", obj.get("category")))
    rid = obj.get("id", meta.get("id"))
    return {
        "intent": str(intent) if intent not in (None, "") else None,
        "id": str(rid) if rid not in (None, "") else None,
    }


FEEDBACK_PREFIX = "fb-"  # ids of records exported from the request log's human feedback


def is_feedback_id(rid: Any) -> bool:
    return str(rid or "").startswith(FEEDBACK_PREFIX)


FEEDBACK = Path("data/feedback")  # the prepare stage's input: a README and, once feedback came in, the snapshot
FEEDBACK_SNAPSHOT = FEEDBACK / "snapshot"  # `llmops feedback` writes it, `dvc add` tracks it
JUDGE_LABELS = "judge_labels.jsonl"  # beside the records in a snapshot: people's verdicts for the evaluator LLM


def feedback_file(folder: Path) -> Path | None:
    """The snapshot's records in a feedback folder, or None before the first snapshot."""
    snapshot = folder / FEEDBACK_SNAPSHOT.name
    if (folder / f"{snapshot.name}.dvc").is_file() and not snapshot.is_dir():
        raise DataFormatError(f"{snapshot}: tracked by {snapshot}.dvc but not here; run `dvc pull {snapshot}.dvc`"
                                " (or `dvc checkout`)")  # fmt: skip
    records = snapshot / "records.jsonl"
    return records if records.is_file() else None


def feedback_ids(split: Path) -> list[str]:
    """The feedback record ids that made it into a split file (after prepare's filters and dedup)."""
    if not split.is_file():
        return []
    ids = []
    for line in split.read_bytes().splitlines():
        if FEEDBACK_PREFIX.encode() in line:
            rid = orjson.loads(line).get("id")
            if is_feedback_id(rid):
                ids.append(rid)
    return ids
