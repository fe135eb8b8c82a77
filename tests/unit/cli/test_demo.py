"""`llmops demo`'s bookkeeping: each step timed with its result, the step that stopped the loop named, exit codes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rich.console import Console

from cli import demo
from tasks.data.customers import Answer, approvable, corrections, review
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


def test_a_crash_in_a_step_is_recorded_and_stops_the_loop_with_its_error() -> None:
    loop = demo.Loop()

    def crashed():
        raise ConnectionError("server went away")

    with pytest.raises(demo.DemoStopped, match="the loop stopped at feedback: ConnectionError: server went away"):
        loop.step("feedback", crashed)
    assert [(s.name, s.ok) for s in loop.steps] == [("feedback", False)]


def test_feedback_waits_out_the_servers_rate_limit() -> None:
    """The server answers 429 with Retry-After once its bucket is empty; staff reviews are not lost to it."""
    seen: list[dict] = []

    class Limited(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            limited = len(seen) % 3 == 0 and not getattr(self.server, "waited", False)
            self.server.waited = limited
            if not limited:
                seen.append(body)
            self.send_response(429 if limited else 200)
            self.send_header("retry-after", "0.01")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Limited)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        product = next(iter(corrections()))
        answers = [Answer(f"r-{i}", "1", product, "q", "a") for i in range(5)]
        counts = review(f"http://127.0.0.1:{server.server_port}", answers, seed=1)
    finally:
        server.shutdown()
    assert counts["corrected"] == 5 and [b["request_id"] for b in seen] == [f"r-{i}" for i in range(5)]


def test_staff_approve_only_replies_about_what_was_asked_with_no_made_up_number() -> None:
    question = "My bill doubled this month, why?"
    replies = [
        "The extra charges are itemised in My Vodaline > Bills; out-of-bundle usage or a plan change explains most.",
        "The extra charges on your bill: call our hotline on 11000 and we will explain them.",
        "Turn your router off and on again, then check the lights on the box.",
    ]
    answers = [Answer(f"r-{i}", "1", "billing_explain", question, reply) for i, reply in enumerate(replies)]
    assert approvable(answers) == [True, False, False]
