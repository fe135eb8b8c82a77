"""`llmops demo`: the whole loop on this workspace, step by step, and one summary at the end.

retrain -> gate -> @champion -> `llmops serve` -> customers through the official openai client (in-distribution,
then a shift towards new products, with ratings and corrections) -> drift-watch -> retrain on old data + feedback
-> gate -> the new @champion -> the running server answers with it. Exit 0 only when the loop closed; otherwise
the summary names the step that stopped it and why (exit 3 when a gate refused).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.table import Table

from cli.common import ParamsOpt, app, load, out_console, prefect_local_mode
from tasks.core.errors import LlmopsError

T = TypeVar("T")
REPORTS = Path("data/reports/demo")


@dataclass
class Step:
    name: str
    seconds: float
    result: str
    ok: bool = True


class DemoStopped(LlmopsError):
    """A step of the loop did not get what the next one needs."""

    def __init__(self, step: str, why: str, exit_code: int = 1) -> None:
        super().__init__(f"the loop stopped at {step}: {why}")
        self.step, self.why, self.exit_code = step, why, exit_code


class Loop:
    """The steps run so far, each timed, and what the summary shows."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.retrains: list[dict[str, Any]] = []

    def step(self, name: str, work: Callable[[], tuple[T, str]]) -> T:
        started = time.perf_counter()
        out_console.rule(f"[bold]{name}")
        try:
            value, result = work()
        except DemoStopped as stop:
            self.steps.append(Step(name, time.perf_counter() - started, stop.why, ok=False))
            raise
        except Exception as err:  # a crash is a result too: the summary names the step and the error
            why = f"{type(err).__name__}: {err}"
            self.steps.append(Step(name, time.perf_counter() - started, why, ok=False))
            raise DemoStopped(name, why) from err
        self.steps.append(Step(name, time.perf_counter() - started, result))
        return value


@contextmanager
def _one_prefect_server() -> Iterator[None]:
    """Every flow of the demo on one temporary Prefect server: in local mode each `llmops` process would start
    (and stop) its own, seconds each time. A configured PREFECT_API_URL is used as it is."""
    prefect_local_mode()
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url:
        yield
        return
    server = SubprocessASGIServer()
    server.start(timeout=int(settings.server.ephemeral.startup_timeout_seconds))
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _run(args: list[str]) -> tuple[int, list[str]]:
    """`llmops ARGS` with its output on this terminal as it comes; (exit code, lines)."""
    proc = subprocess.Popen(["llmops", *args], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)  # fmt: skip
    lines = []
    for line in proc.stdout or []:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    return proc.wait(), lines


def _decision(lines: list[str]) -> str:
    """What `llmops watch` decided ("no drift: ...", "drift: ..."), from its output; "" when it said nothing."""
    return next((line.removeprefix("drift-watch: ") for line in lines if line.startswith("drift-watch: ")), "")


def _retrain(loop: Loop, args: list[str], step: str) -> tuple[dict[str, Any], list[str]]:
    """`llmops ARGS` that runs the retrain flow; the summary it left in data/reports/retrain.json, and its output."""
    from tasks.registry.summary import retrain_verdict

    summary_file = Path("data/reports/retrain.json")
    summary_file.unlink(missing_ok=True)
    code, lines = _run(args)
    if not summary_file.is_file():
        said = _decision(lines)
        raise DemoStopped(step, said or f"`llmops {' '.join(args)}` exited {code} before the retrain flow ran")
    summary = orjson.loads(summary_file.read_bytes())
    REPORTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(summary_file, REPORTS / f"retrain-{len(loop.retrains) + 1}.json")
    loop.retrains.append(summary)
    if summary["outcome"] not in ("promoted", "unchanged"):
        raise DemoStopped(step, retrain_verdict(summary), 3 if summary["outcome"] == "refused" else 1)
    return summary, lines


def _serve(port: int) -> tuple[subprocess.Popen, str]:
    from tasks.core.processes import wait_until_ready

    log = (REPORTS / "serve.log").open("wb")
    proc = subprocess.Popen(["llmops", "serve", "--port", str(port)], env=_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/ready", proc, timeout=300)
    except (ChildProcessError, TimeoutError) as err:
        _stop(proc)
        raise DemoStopped("serve", f"{err}; see {REPORTS / 'serve.log'}") from None
    return proc, base


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def _watch() -> str:
    """The drift-watch flow here (`llmops watch`): its decision, which must be no drift."""
    code, lines = _run(["watch"])
    said = _decision(lines)
    if not said:
        raise DemoStopped("drift-watch", f"`llmops watch` exited {code} without a decision")
    return said


def _swapped(base: str, version: str, timeout: float) -> float:
    """Seconds until the running server answers with `version`."""
    import httpx

    started = time.monotonic()
    while (serving := httpx.get(f"{base}/ready", timeout=10).json().get("version")) != version:
        if time.monotonic() - started > timeout:
            raise DemoStopped("hot swap", f"the server still serves v{serving} after {timeout:.0f} s")
        time.sleep(1)
    return time.monotonic() - started


def _summary(loop: Loop, closed: bool) -> None:
    """Both retrains' tables, the steps, where to look; the same as data/reports/demo/summary.json."""
    from tasks.core.files import write_json
    from tasks.registry.summary import MLFLOW_UI, render_retrain

    REPORTS.mkdir(parents=True, exist_ok=True)
    write_json(REPORTS / "summary.json", {"closed": closed, "steps": [asdict(s) for s in loop.steps]})
    for summary in loop.retrains:
        render_retrain(out_console, summary)
    table = Table(title="llmops demo: the loop" + (" closed" if closed else " did not close"))
    for column in ("step", "time", "result"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for s in loop.steps:
        table.add_row(s.name, f"{s.seconds:.0f} s", s.result if s.ok else f"[bold red]{s.result}[/]")
    table.add_row("total", f"{sum(s.seconds for s in loop.steps):.0f} s", "")
    out_console.print(table)
    out_console.print(f"MLflow: {MLFLOW_UI}: runs in the experiment, the model's versions and aliases")
    out_console.print("Prefect: `prefect flow-run ls` (or `make ui` for the UI); DVC: `dvc exp show`")
    out_console.print(f"Reports: data/reports/evaluation.html, data/reports/drift/, {REPORTS}/ (summaries, serve.log)")


def _versions(answers: list) -> str:
    return ", ".join(f"v{v}" for v in sorted({a.version for a in answers}))


@app.command()
def demo(
    loop: Annotated[bool, typer.Option("--loop/--no-loop", help="--no-loop: the retrain alone")] = True,
    customers: Annotated[int, typer.Option(help="chats per traffic phase")] = 120,
    shift: Annotated[float, typer.Option(help="share of the second phase about new products")] = 0.6,
    max_tokens: Annotated[int, typer.Option(help="reply length the customers ask for, in tokens")] = 24,
    port: Annotated[int | None, typer.Option(help="default: a free loopback port")] = None,
    seed: Annotated[int, typer.Option(help="the customers' seed")] = 1,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """The whole loop on this workspace: retrain, gate, serve, customers, drift, retrain, promote, hot swap."""
    from tasks.core.processes import free_port
    from tasks.data.customers import chat, review

    cfg = load(params)
    name = cfg.registry.model_name
    run, proc, closed = Loop(), None, False

    def first_champion() -> tuple[dict, str]:
        summary, _ = _retrain(run, ["retrain", "--reason", "demo"], "retrain")
        return summary, f"{summary['outcome']}: @champion v{summary['deploy']['champion_after']}"

    def serve() -> tuple[tuple[subprocess.Popen, str], str]:
        started = _serve(port or free_port())
        return started, f"{started[1]}/v1 (log: {REPORTS / 'serve.log'})"

    def talk(phase_seed: int, share: float) -> tuple[list, str]:
        answers = chat(base, name, customers, phase_seed, share, cfg.generate, max_tokens)
        return answers, f"{len(answers)} chats ({share:.0%} about new products), answered by {_versions(answers)}"

    def drift_and_retrain() -> tuple[dict, str]:
        summary, lines = _retrain(run, ["watch", "--retrain"], "drift-watch + retrain")
        said = _decision(lines)
        return summary, f"{said[:100]}; {summary['outcome']}: @champion v{summary['deploy']['champion_after']}"

    with _one_prefect_server():
        try:
            first = run.step("retrain", first_champion)
            if not loop:
                closed = True
                return
            proc, base = run.step("serve", serve)
            calm = run.step("customers", lambda: talk(seed, 0.0))
            run.step("drift-watch", lambda: (None, _watch()))
            shifted = run.step("new products", lambda: talk(seed + 1, shift))
            run.step("feedback", lambda: (None, ", ".join(f"{k} {v}" for k, v in review(base, calm + shifted,
                                                                                           seed).items())))  # fmt: skip
            second = run.step("drift-watch + retrain", drift_and_retrain)
            version = str(second["deploy"]["champion_after"])
            run.step("hot swap", lambda: (None, f"v{version} answers after {_swapped(base, version, 600):.0f} s"))
            closed = first["deploy"]["champion_after"] != second["deploy"]["champion_after"]
        finally:
            if proc is not None:
                _stop(proc)
            _summary(run, closed)
