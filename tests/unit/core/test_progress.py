"""Progress without a terminal is a log line every few units, so DVC, Prefect and CI logs show it."""

import logging

import pytest

from tasks.core.progress import Progress


def test_log_lines_when_stderr_is_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="llmops.progress")
    progress = Progress(10, every=4, desc="evaluate base", unit="reply")
    assert progress.bar is None  # pytest captures stderr: not a terminal
    for done in range(1, 11):
        progress.update(done, {"loss": 1.5})
    progress.close()
    assert [r.getMessage() for r in caplog.records] == [
        "evaluate base: reply 4/10 loss 1.5",
        "evaluate base: reply 8/10 loss 1.5",
        "evaluate base: reply 10/10 loss 1.5",
    ]
