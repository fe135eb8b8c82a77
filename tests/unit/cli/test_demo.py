"""`llmops demo`'s bookkeeping: each step timed with its result, the step that stopped the loop named, exit codes."""

from __future__ import annotations

import pytest
from rich.console import Console

from cli import demo
from tasks.data.customers import corrections
from tasks.data.synthesize import _templates


def test_steps_are_timed_and_the_one_that_stops_the_loop_is_recorded_then_raised() -> None:
    loop = demo.Loop()
    assert loop.step("serve", lambda: (42, "http://127.0.0.1:1/v1")) == 42

    def refused():
        raise demo.DemoStopped("retrain", "not promoted (failed): @champion stays at none", 3)

    with pytest.raises(demo.DemoStopped) as stopped:
        loop.step("retrain", refused)
    assert stopped.value.exit_code == 3 and "the loop stopped at retrain" in str(stopped.value)
    assert [(s.name, s.ok, s.result) for s in loop.steps] == [
        ("serve", True, "http://127.0.0.1:1/v1"),
        ("retrain", False, "not promoted (failed): @champion stays at none"),
    ]
    assert all(s.seconds >= 0 for s in loop.steps)


def test_the_summary_says_whether_the_loop_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(record=True, width=160)
    monkeypatch.setattr(demo, "out_console", console)
    loop = demo.Loop()
    loop.step("hot swap", lambda: (None, "v2 answers after 3 s"))
    demo._summary(loop, closed=True)
    text = " ".join(console.export_text().split())
    assert "the loop closed" in text and "v2 answers after 3 s" in text and "total" in text
    demo._summary(demo.Loop(), closed=False)
    assert "did not close" in " ".join(console.export_text().split())


def test_every_new_product_has_a_correction() -> None:
    assert set(corrections()) == set(_templates()["shifted_intents"])
