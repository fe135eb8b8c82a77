"""A torch lock file left by a killed build must not make every later rank wait forever."""

from __future__ import annotations

import threading
from pathlib import Path

from tasks.training.cpu_comm import clear_stale_lock


def test_a_left_over_lock_is_removed_after_the_grace_period(tmp_path: Path, caplog):
    lock = tmp_path / "lock"
    lock.touch()
    clear_stale_lock(lock, grace_s=0.2)
    assert not lock.exists()
    assert "left behind by a killed build" in caplog.text


def test_a_lock_released_during_the_grace_period_is_waited_for(tmp_path: Path, caplog):
    lock = tmp_path / "lock"
    lock.touch()
    threading.Timer(0.3, lock.unlink).start()
    clear_stale_lock(lock, grace_s=10)
    assert not lock.exists()
    assert "left behind" not in caplog.text
