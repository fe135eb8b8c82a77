"""Which version a rollback returns to, replayed from the recorded history."""

import pytest

from tasks.registry.deploy import previous_champion
from tasks.registry.store import Event


def event(action: str, version: str, previous: str | None = None) -> Event:
    champion = version if action in ("promote", "rollback") else previous
    return Event("2026-01-01T00:00:00.000000Z", action, version, previous, champion, "t", "")


STACKED = [event("promote", "1"), event("promote", "2", "1"), event("promote", "3", "2"), event("rollback", "2", "3")]


@pytest.mark.parametrize(
    ("events", "current", "expected"),
    [
        ([], None, None),
        ([event("promote", "1")], "1", None),
        ([event("promote", "1"), event("promote", "2", "1")], "2", "1"),
        ([event("promote", "1"), event("reject", "2", "1"), event("promote", "3", "1")], "3", "1"),
        # rollbacks walk down the stack: 1 <- 2 <- 3, rolled back to 2, then the previous one is 1
        (STACKED, "2", "1"),
        # the alias was moved by hand outside the tool: the last recorded champion is the previous one
        ([event("promote", "1"), event("promote", "2", "1")], "5", "2"),
    ],
)
def test_previous_champion(events, current, expected) -> None:
    assert previous_champion(events, current) == expected
