"""The request log on a real SQLite file and a real PostgreSQL database: redaction, batching writer, feedback,
retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.monitoring.request_log import Entry, RequestLog, UnknownRequestError, connect, feedback, requests, rows


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """The default SQLite file, and a PostgreSQL database (LLMOPS_REQUEST_LOG_URL past one machine)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'deep' / 'requests.db'}"
    else:
        url = request.getfixturevalue("postgres").create(f"requests_{tmp_path.name.lower()}"[:60])
    log = RequestLog(url, retention_days=7)
    yield log
    log.close()


def entry(i: int, **extra) -> Entry:
    return Entry(id=f"req-{i}", endpoint="chat", messages=[{"role": "user", "content": f"question {i}"}],
                 status=200, completion=f"answer {i}", **extra)  # fmt: skip


def test_every_entry_is_written_and_pii_is_redacted(store: RequestLog) -> None:
    for i in range(600):  # more than one writer batch
        store.record(entry(i))
    store.record(Entry(id="pii", endpoint="chat", status=200, messages=[{"role": "user", "content": "I am ann@x.org"}],
                       completion="Call 4111 1111 1111 1111", guard={"pii": "redact"}))  # fmt: skip
    store.flush()
    stored = {row["id"]: row for row in rows(store.engine)}
    assert len(stored) == 601
    assert stored["pii"]["messages"] == [{"role": "user", "content": "I am <EMAIL>"}]
    assert stored["pii"]["completion"] == "Call <CARD>" and stored["pii"]["guard"] == {"pii": "redact"}


def test_feedback_needs_a_known_request(store: RequestLog) -> None:
    store.record(entry(1))
    fid = store.add_feedback("req-1", -1, "The answer is mail ann@x.org", None)
    [row] = list(rows(store.engine, feedback))
    assert row["id"] == fid and row["rating"] == -1 and row["correction"] == "The answer is mail <EMAIL>"
    with pytest.raises(UnknownRequestError, match="no request with id 'nope'"):
        store.add_feedback("nope", 1, None, None)


def test_purge_deletes_old_requests_with_their_feedback(store: RequestLog) -> None:
    now = datetime.now(UTC)
    store.record(entry(1, created_at=now - timedelta(days=8)))
    store.record(entry(2, created_at=now - timedelta(days=1)))
    store.add_feedback("req-1", 1, None, "old")
    store.add_feedback("req-2", 1, None, "recent")
    assert store.purge(now) == 1
    assert [r["id"] for r in rows(store.engine)] == ["req-2"]
    assert [r["comment"] for r in rows(store.engine, feedback)] == ["recent"]
    assert store.purge(now) == 0


def test_a_failed_write_does_not_stop_the_writer(store: RequestLog) -> None:
    store.record(entry(1))
    store.record(entry(1))  # same id: the batch fails on the primary key
    store.flush()
    store.record(entry(2))
    store.flush()
    assert "req-2" in {r["id"] for r in rows(store.engine)}


def test_a_bad_url_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"serving\.request_log: 'not a url'"):
        connect("not a url")


def test_readers_see_the_schema_of_an_empty_log(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'r.db'}")
    assert list(rows(engine, requests)) == []
