"""The request log: every served request and its feedback, PII-redacted, in any SQLAlchemy database.

Serving writes it; the drift check and the feedback loop read it. Writes go through one background thread in
batches, so a request pays for a queue put, not a database round trip. SQLite (the default) runs in WAL mode so
readers never block the writer; a `postgresql+psycopg://` URL works the same way.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tasks.config.schema import ServingParams
from tasks.core.errors import ConfigError, LlmopsError
from tasks.data.pii import scrub

log = logging.getLogger(__name__)

metadata = sa.MetaData()

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(128), index=True),
    sa.Column("endpoint", sa.String(32), nullable=False),
    sa.Column("model_version", sa.String(32), index=True),
    sa.Column("api_key_id", sa.String(16)),
    sa.Column("messages", sa.JSON, nullable=False),  # the prompt as chat turns, redacted
    sa.Column("completion", sa.Text),  # redacted
    sa.Column("prompt_tokens", sa.Integer),
    sa.Column("completion_tokens", sa.Integer),
    sa.Column("latency_ms", sa.Float),
    sa.Column("status", sa.Integer, nullable=False),  # the HTTP status the client got
    sa.Column("error", sa.Text),
    sa.Column("guard", sa.JSON),  # {check: outcome}
    sa.Column("end_user", sa.String(256)),  # OpenAI's `user`: the client's id for its own end user
    sa.Column("request_metadata", sa.JSON),  # OpenAI's `metadata`, values redacted
    sa.Column("sources", sa.JSON),  # the knowledge base chunks put in the prompt: [{id, title, score}]
    sa.Column("index_version", sa.String(32)),  # the index they came from
    sa.Column("prompt_version", sa.String(32)),  # the context prompt's version they were rendered with
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), sa.ForeignKey("requests.id", ondelete="CASCADE"), index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),  # -1 bad, 0 neutral, 1 good
    sa.Column("correction", sa.Text),  # a human's better answer, redacted
    sa.Column("comment", sa.Text),
)


class UnknownRequestError(LlmopsError):
    """Feedback named a request id the log does not have (never served, or past retention)."""


@dataclass
class Entry:
    id: str
    endpoint: str
    messages: list[dict[str, str]]
    status: int
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    conversation_id: str | None = None
    model_version: str | None = None
    api_key_id: str | None = None
    completion: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    guard: dict[str, str] = field(default_factory=dict)
    end_user: str | None = None
    request_metadata: dict[str, str] | None = None
    sources: list[dict[str, str | float]] | None = None
    index_version: str | None = None
    prompt_version: str | None = None

    def redacted(self) -> dict[str, Any]:
        row = dict(self.__dict__)
        row["messages"] = [{**m, "content": scrub(m["content"])} for m in self.messages]
        if self.request_metadata:
            row["request_metadata"] = {k: scrub(v) for k, v in self.request_metadata.items()}
        row["completion"] = None if self.completion is None else scrub(self.completion)
        return row


def url_of(params: ServingParams) -> str:
    """The log's URL: LLMOPS_REQUEST_LOG_URL (a secret-bearing Postgres URL stays out of params.yaml) wins."""
    return os.environ.get("LLMOPS_REQUEST_LOG_URL") or params.request_log


def connect(url: str) -> sa.Engine:
    """An engine with the tables created; a relative sqlite path gets its folder."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"serving.request_log: {url!r} is not a SQLAlchemy URL (e.g. sqlite:///x.db)") from None
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed)
    if parsed.drivername.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    _add_new_columns(engine)
    return engine


def _add_new_columns(engine: sa.Engine) -> None:
    """A log written by an older release lacks the columns added since (all nullable): add them in place."""
    for table in metadata.sorted_tables:
        present = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in present]
        with engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
                log.info("request log: added column %s.%s", table.name, column.name)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class RequestLog:
    """Queue-backed writer; `flush` waits until everything queued so far is in the database."""

    def __init__(self, url: str, retention_days: float, batch: int = 256) -> None:
        self.engine = connect(url)
        self.retention = timedelta(days=retention_days)
        self._batch = batch
        self._queue: queue.Queue[Entry | None] = queue.Queue()
        self._thread = threading.Thread(target=self._drain, name="request-log", daemon=True)
        self._thread.start()

    def record(self, entry: Entry) -> None:
        self._queue.put(entry)

    def flush(self) -> None:
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        self.engine.dispose()

    def _drain(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < self._batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries = [e for e in items if e is not None]
            try:
                if entries:
                    with self.engine.begin() as conn:
                        conn.execute(requests.insert(), [e.redacted() for e in entries])
            except Exception:
                log.exception("request log: %d entries could not be written", len(entries))
            finally:
                for _ in items:
                    self._queue.task_done()
            if len(entries) < len(items):
                return

    def add_feedback(self, request_id: str, rating: int, correction: str | None, comment: str | None) -> int:
        """Store a rating for a served request; returns the feedback id."""
        self.flush()
        with self.engine.begin() as conn:
            if conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id)).first() is None:
                raise UnknownRequestError(f"no request with id {request_id!r} in the request log")
            row = {
                "request_id": request_id,
                "created_at": datetime.now(UTC),
                "rating": rating,
                "correction": None if correction is None else scrub(correction),
                "comment": None if comment is None else scrub(comment),
            }
            return conn.execute(feedback.insert().values(**row)).inserted_primary_key[0]

    def tokens_since(self, api_key_id: str, since: datetime) -> int:
        """Prompt and completion tokens a key used since `since`: where a restarted server's budgets start."""
        self.flush()
        used = sa.func.coalesce(sa.func.sum(sa.func.coalesce(requests.c.prompt_tokens, 0)
                                            + sa.func.coalesce(requests.c.completion_tokens, 0)), 0)  # fmt: skip
        query = sa.select(used).where(requests.c.api_key_id == api_key_id, requests.c.created_at >= since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def purge(self, now: datetime | None = None) -> int:
        """Delete requests (and their feedback) older than the retention; returns how many requests went."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        with self.engine.begin() as conn:
            old = sa.select(requests.c.id).where(requests.c.created_at < cutoff)
            conn.execute(feedback.delete().where(feedback.c.request_id.in_(old)))
            return conn.execute(requests.delete().where(requests.c.created_at < cutoff)).rowcount


def rows(engine: sa.Engine, table: sa.Table = requests) -> Iterator[dict[str, Any]]:
    """Every row of a table, oldest first, as plain dicts."""
    with engine.connect() as conn:
        for row in conn.execute(sa.select(table).order_by(table.c.created_at)):
            yield dict(row._mapping)
