"""prepare: raw files in any supported format -> one clean, scrubbed, deduplicated record set.

Every input row ends in exactly one place: records.jsonl (kept) or quarantine.jsonl (dropped,
with a reason). summary.json holds the counts and `rows_in == rows_kept + rows_dropped`.

Per-row work (normalise, language, PII, token length, MinHash signature) runs in
`prepare.workers` processes; deduplication decides in the parent, in input order, so the
output is byte-identical whatever the number of workers.
"""

from __future__ import annotations

import base64
import logging
import multiprocessing as mp
import os
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import orjson
from datasketch import LeanMinHash
from tqdm import tqdm

from tasks.config.schema import PrepareParams
from tasks.core.errors import DataFormatError
from tasks.core.files import atomic_writer, write_json
from tasks.core.text import dedup_key, language, normalize_text
from tasks.data.dedup import NearDuplicateIndex, signatures
from tasks.data.formats import EXPECTED, SchemaIssue, feedback_file, is_feedback_id, metadata, to_messages
from tasks.data.formats import detect as detect_format
from tasks.data.loaders import BadRow, RawRow, Row, read_rows
from tasks.data.pii import scrub

log = logging.getLogger(__name__)

RECORDS = "records.jsonl"
QUARANTINE = "quarantine.jsonl"
SUMMARY = "summary.json"
_CHUNK = 1024
# Reasons that mean the row could not be read as a record (as opposed to a record cleaning rejected);
# their share of a file is bounded by prepare.max_bad_fraction.
_UNREADABLE = ("invalid_json", "too_deep", "bad_utf8", "nul_bytes", "line_too_long", "not_an_object", "schema")

Messages = list[dict[str, str]]
# No tokenizer averages this many characters per token: longer rows are rejected before the
# expensive steps (PII regexes, tokenisation), whose cost grows with length.
_MAX_CHARS_PER_TOKEN = 32
# Distinct texts each worker remembers the scrub of: system prompts, canned replies and greetings repeat.
_SCRUB_MEMORY = 65_536


@dataclass(frozen=True, slots=True)
class Cleaned:
    messages: Messages
    lang: str
    n_tokens: int
    key: str  # dedup_key of the text, computed in the worker to keep it off the parent's serial path
    signature: LeanMinHash


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    detail: str


# ---- per-row work, run in worker processes (or in-process with workers=1) -------------------------

_worker: dict[str, Any] = {}


def _init_worker(model_dir: str, params: PrepareParams) -> None:
    from tasks.data.tokens import TokenCounter
    from tasks.models.base_model import load_tokenizer

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _worker["params"] = params
    _worker["counter"] = TokenCounter(load_tokenizer(Path(model_dir)))


@lru_cache(maxsize=_SCRUB_MEMORY)
def _scrubbed(text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The scrub of `text` and what it replaced, once per distinct text: a million generated records hold a
    quarter as many distinct texts, and the scrub is three quarters of a row's cost."""
    found: Counter[str] = Counter()
    return scrub(text, found), tuple(found.items())


def _scrub(text: str, pii: Counter[str]) -> str:
    text, found = _scrubbed(text)
    pii.update(dict(found))
    return text


def _language(messages: Messages) -> tuple[str, float]:
    return language(" ".join(m["content"] for m in messages if m["role"] == "user"))


def _screen(messages: Messages, p: PrepareParams, pii: Counter[str]) -> Rejected | tuple[Messages, str]:
    messages = [{"role": m["role"], "content": normalize_text(m["content"])} for m in messages]
    empty = [f"{m['role']} turn {i}" for i, m in enumerate(messages) if not m["content"]]
    if empty:
        return Rejected("empty", "empty after normalisation: " + ", ".join(empty))
    chars = sum(len(m["content"]) for m in messages)
    if chars > p.max_tokens * _MAX_CHARS_PER_TOKEN:
        return Rejected(
            "too_long",
            f"{chars} characters: over {_MAX_CHARS_PER_TOKEN} per token of prepare.max_tokens={p.max_tokens}",
        )
    lang, score = _language(messages)
    if p.languages is not None and lang not in p.languages and score >= p.language_min_score:
        return Rejected("language", f"detected {lang} (score {score:.2f}); prepare.languages={p.languages}")
    if p.scrub_pii:
        messages = [{"role": m["role"], "content": _scrub(m["content"], pii)} for m in messages]
    return messages, lang


def clean_chunk(chunk: list[Messages]) -> tuple[list[Cleaned | Rejected], Counter[str]]:
    """Clean a chunk of conversations; returns one outcome per conversation and the PII counts."""
    p: PrepareParams = _worker["params"]
    pii: Counter[str] = Counter()
    screened = [_screen(m, p, pii) for m in chunk]
    survivors = [s for s in screened if not isinstance(s, Rejected)]
    lengths = iter(_worker["counter"].count([m for m, _ in survivors]))
    bounded: list[Rejected | tuple[Messages, str, int]] = []
    for s in screened:
        if isinstance(s, Rejected):
            bounded.append(s)
        elif (n := next(lengths)) < p.min_tokens:
            bounded.append(Rejected("too_short", f"{n} tokens < prepare.min_tokens={p.min_tokens}"))
        elif n > p.max_tokens:
            bounded.append(Rejected("too_long", f"{n} tokens > prepare.max_tokens={p.max_tokens}"))
        else:
            bounded.append((*s, n))
    texts = ["\n".join(m["content"] for m in b[0]) for b in bounded if not isinstance(b, Rejected)]
    sigs = iter(signatures(texts, p.num_perm, p.shingle_words))
    text_iter = iter(texts)
    out: list[Cleaned | Rejected] = []
    for b in bounded:
        if isinstance(b, Rejected):
            out.append(b)
        else:
            out.append(Cleaned(b[0], b[1], b[2], dedup_key(next(text_iter)), next(sigs)))
    return out, pii


# ---- the parent: reading, ordering, deduplication, accounting -------------------------------------


@dataclass
class _Candidate:
    row: RawRow
    messages: Messages
    meta: dict[str, str | None]


@dataclass
class _Kept:
    """What one kind of row (the data, or people's feedback) has kept so far: its dedup keys and signatures."""

    near: NearDuplicateIndex | None
    exact: dict[str, str] = field(default_factory=dict)


@dataclass
class _State:
    params: PrepareParams
    data: _Kept
    feedback: _Kept
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


def _unique_id(c: _Candidate, state: _State) -> str:
    rid = c.meta["id"] or f"{Path(c.row.source).stem}:{c.row.line}"
    return rid if rid not in state.ids else f"{rid}@{Path(c.row.source).stem}:{c.row.line}"


def _decide(c: _Candidate, outcome: Cleaned | Rejected, state: _State, sink: _Sink) -> bool:
    """Deduplicate in input order and write the row to one of the two outputs; True when kept.

    Data rows and feedback rows are deduplicated each among their own kind: a data row dropped for repeating a
    person's answer would change the data rows, and with them the split's test set, at every retrain."""
    if isinstance(outcome, Rejected):
        sink.drop_candidate(c, outcome.reason, outcome.detail)
        return False
    kept = state.feedback if is_feedback_id(c.meta["id"]) else state.data
    exact, near = kept.exact, kept.near
    key = outcome.key
    if key in exact:
        sink.drop_candidate(c, "duplicate", f"same text as kept record {exact[key]}")
        return False
    if near is not None and (twin := near.find(outcome.signature)) is not None:
        sink.drop_candidate(
            c, "near_duplicate", f"near-duplicate of kept record {twin} (MinHash Jaccard >= {near.threshold})"
        )
        return False
    rid = _unique_id(c, state)
    exact[key] = rid
    if near is not None:
        near.add(rid, outcome.signature)
    state.ids.add(rid)
    state.intents[c.meta["intent"] or "none"] += 1
    state.languages[outcome.lang] += 1
    state.tokens.append(outcome.n_tokens)
    sink.keep(
        {
            "id": rid,
            "messages": outcome.messages,
            "intent": c.meta["intent"],
            "lang": outcome.lang,
            "n_tokens": outcome.n_tokens,
            "source": Path(c.row.source).name,
            "line": c.row.line,
        }
    )
    return True


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A row dropped before cleaning; it travels with the chunks so the quarantine keeps input order."""

    source: str
    line: int
    reason: str
    detail: str
    payload: dict[str, Any]


_Item = _Candidate | _Unreadable


def _items(path: Path, rows: Iterable[Row], fmt: str) -> Iterator[_Item]:
    chosen = None if fmt == "auto" else fmt
    for row in rows:
        if isinstance(row, BadRow):
            yield _Unreadable(row.source, row.line, row.reason, row.detail, _raw_payload(row.raw))
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
            yield _Unreadable(row.source, row.line, "schema", f"{chosen} format: {issue}", {"record": row.obj})


def _chunks(items: Iterable[_Item], size: int) -> Iterator[list[_Item]]:
    chunk: list[_Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _messages(chunk: list[_Item]) -> list[Messages]:
    return [c.messages for c in chunk if isinstance(c, _Candidate)]


def _cleaned(
    chunks: Iterable[list[_Item]], pool: ProcessPoolExecutor | None, ahead: int
) -> Iterator[tuple[list[_Item], Any]]:
    """(chunk, clean_chunk result for its candidates) in input order, with at most `ahead` chunks in flight."""
    if pool is None:
        for chunk in chunks:
            yield chunk, clean_chunk(_messages(chunk))
        return
    pending: deque[tuple[list[_Item], Future[Any]]] = deque()
    for chunk in chunks:
        pending.append((chunk, pool.submit(clean_chunk, _messages(chunk))))
        if len(pending) >= ahead:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()


def _unreadable(state: _State) -> int:
    return sum(state.dropped[r] for r in _UNREADABLE)


def _prepare_file(
    path: Path, state: _State, sink: _Sink, pool: ProcessPoolExecutor | None, ahead: int
) -> dict[str, int]:
    dropped_before, unreadable_before = sum(state.dropped.values()), _unreadable(state)
    rows_in = kept = 0
    bad_examples: list[str] = []

    def counted(rows: Iterable[Row]) -> Iterator[Row]:
        nonlocal rows_in
        for row in rows:
            rows_in += 1
            if isinstance(row, BadRow) and len(bad_examples) < 3:
                bad_examples.append(f"line {row.line}: {row.reason} ({row.detail[:80]})")
            yield row

    items = _items(path, counted(read_rows(path, state.params.max_line_bytes)), state.params.format)
    with tqdm(desc=f"prepare {path.name}", unit=" rows", mininterval=1.0, leave=False) as progress:
        for chunk, (outcomes, pii) in _cleaned(_chunks(items, _CHUNK), pool, ahead):
            state.pii.update(pii)
            outcome = iter(outcomes)
            for item in chunk:
                if isinstance(item, _Unreadable):
                    sink.drop(item.source, item.line, item.reason, item.detail, item.payload)
                else:
                    kept += _decide(item, next(outcome), state, sink)
            progress.update(len(chunk))
    unreadable = _unreadable(state) - unreadable_before
    if rows_in and unreadable / rows_in > state.params.max_bad_fraction:
        raise DataFormatError(
            f"{path}: {unreadable} of {rows_in} rows are unreadable "
            f"(> prepare.max_bad_fraction={state.params.max_bad_fraction}); first: {'; '.join(bad_examples)}. "
            "Fix the export, or raise prepare.max_bad_fraction to quarantine them and go on"
        )
    return {"rows_in": rows_in, "rows_kept": kept, "rows_dropped": sum(state.dropped.values()) - dropped_before}


def prepare(
    inputs: list[Path], out_dir: Path, params: PrepareParams, model_dir: Path, feedback: Path | None = None
) -> dict[str, Any]:
    """Run the prepare stage over `inputs`; writes records, quarantine and summary into `out_dir`.

    `feedback` (the folder `llmops feedback` snapshots the request log into) goes first; unlike the other inputs
    it may hold nothing yet. Its records are deduplicated among themselves, never against the data: training sees
    a person's answer beside the data's, and the data rows stay the same from one retrain to the next.
    """
    from tasks.models.base_model import load_tokenizer

    if not inputs:
        raise DataFormatError("prepare: no input files given")
    if feedback is not None:
        if not feedback.is_dir():
            raise DataFormatError(f"{feedback}: not a folder; `llmops feedback` writes its snapshot into one")
        records = feedback_file(feedback)
        if records is not None and records.read_bytes().strip():
            inputs = [records, *inputs]
    load_tokenizer(model_dir)  # fail here, with the fix, rather than inside a worker
    state = _State(params, data=_Kept(_near_index(params)), feedback=_Kept(_near_index(params)))
    workers = params.workers or os.cpu_count() or 1
    files: dict[str, dict[str, int]] = {}
    with (
        _pool(workers, str(model_dir), params) as pool,
        atomic_writer(out_dir / RECORDS) as kept,
        atomic_writer(out_dir / QUARANTINE) as quarantine,
    ):
        sink = _Sink(kept, quarantine, state)
        for path in inputs:
            files[str(path)] = _prepare_file(path, state, sink, pool, ahead=2 * workers)
    summary = _summary(files, state)
    write_json(out_dir / SUMMARY, summary)
    return summary


def _near_index(params: PrepareParams) -> NearDuplicateIndex | None:
    return NearDuplicateIndex(params.near_dup_threshold, params.num_perm) if params.near_dup_threshold else None


@contextmanager
def _pool(workers: int, model_dir: str, params: PrepareParams) -> Iterator[ProcessPoolExecutor | None]:
    """Spawned worker processes, or None (clean in-process) for one worker.

    A worker that dies (out of memory, say) fails the stage with BrokenProcessPool instead of hanging it.
    """
    if workers == 1:
        _init_worker(model_dir, params)
        try:
            yield None
        finally:
            _scrubbed.cache_clear()  # a long-lived process keeps no customer's text once the stage is done
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=mp.get_context("spawn"), initializer=_init_worker, initargs=(model_dir, params)
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _summary(files: dict[str, dict[str, int]], state: _State) -> dict[str, Any]:
    rows_in = sum(f["rows_in"] for f in files.values())
    kept = sum(f["rows_kept"] for f in files.values())
    dropped = sum(state.dropped.values())
    if rows_in != kept + dropped:
        raise AssertionError(f"accounting broken: {rows_in} in != {kept} kept + {dropped} dropped")
    tokens = sorted(state.tokens)
    return {
        "rows_in": rows_in,
        "rows_kept": kept,
        "rows_dropped": dropped,
        "dropped": dict(sorted(state.dropped.items())),
        "pii_replaced": dict(sorted(state.pii.items())),
        "intents": len([i for i in state.intents if i != "none"]),
        "languages": dict(state.languages.most_common()),
        "tokens": {
            "mean": round(sum(tokens) / len(tokens), 1) if tokens else 0,
            "p50": tokens[len(tokens) // 2] if tokens else 0,
            "p95": tokens[int(len(tokens) * 0.95)] if tokens else 0,
            "max": tokens[-1] if tokens else 0,
        },
        "files": files,
    }
