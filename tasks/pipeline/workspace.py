"""The DVC workspace an orchestrator drives: stage order, one stage at a time with live output, the run's record.

repro("train", Path("."), print)   # `dvc repro --single-item train`, every output line to the callback

DVC decides what is stale (an unchanged stage is skipped, a known one restored from the run cache); this
module only runs it, streams what it says, and turns a failure into a StageError carrying the stage's own
error line (for training: the failing rank and its message).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from tasks.core.errors import StageError
from tasks.core.processes import die_with_parent
from tasks.data.formats import FEEDBACK_SNAPSHOT

Status = Literal["ran", "unchanged", "restored", "failed"]
_OUR_ERROR = re.compile(r"^\s*error:\s*(.+)$")  # what the llmops CLI prints for a user-fixable error
_DVC_ERROR = re.compile(r"^ERROR:\s*(.+)$")


@dataclass(frozen=True)
class StageRun:
    stage: str
    status: Status
    seconds: float
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def stage_plan(root: Path) -> list[tuple[str, bool]]:
    """Pipeline stages of dvc.yaml, upstream first, as `dvc repro` would run them, each with whether it is settled:
    `dvc status` finds it unchanged and every stage upstream of it unchanged too, so nothing in this run can change
    its inputs and it needs no `dvc repro` of its own (half a second each, most of a retrain that finds nothing to
    do). A stage below a changed one is left to DVC: its inputs change when that one runs."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        changed = set(repo.status())
        graph = repo.index.graph
        stale = {s for s in graph if s.addressing in changed}
        ordered = reversed(list(nx.topological_sort(graph)))  # DVC's edges point from a stage to its inputs
        return [(s.name, not stale & {s, *nx.descendants(graph, s)}) for s in ordered if getattr(s, "cmd", None)]


def tool(name: str) -> str:
    """A console script of this interpreter's environment (llmops, dvc)."""
    return str(Path(sys.executable).parent / name)


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This interpreter's scripts (dvc, llmops) first on PATH, unbuffered output, a console wide enough for logs."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}
    env.setdefault("COLUMNS", "160")
    return {**env, **(extra or {})}


def stream(cmd: list[str], cwd: Path, on_line: Callable[[str], None], tail: int = 200) -> tuple[int, list[str]]:
    """Run `cmd`, passing each output line to `on_line` as it comes; returns the exit code and the last lines.

    The command gets a process group of its own, so an interrupted run (a cancelled flow) takes the whole
    tree with it: dvc, the stage's command and any training ranks.
    """
    last: deque[str] = deque(maxlen=tail)
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        errors="replace", bufsize=1, start_new_session=True, preexec_fn=die_with_parent,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            last.append(line)
            on_line(line)
        return proc.wait(), list(last)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def error_of(lines: list[str]) -> str:
    """The most specific error in a stage's output: ours (names the file, key or rank) before DVC's summary."""
    for pattern in (_OUR_ERROR, _DVC_ERROR):
        for line in reversed(lines):
            if m := pattern.match(line):
                return m.group(1).strip()
    return lines[-1].strip() if lines else "no output"


def status_of(stage: str, lines: list[str]) -> Status:
    text = "\n".join(lines)
    if f"Stage '{stage}' didn't change" in text:
        return "unchanged"
    if f"Stage '{stage}' is cached - skipping run" in text:
        return "restored"
    return "ran"


def repro(stage: str, root: Path, on_line: Callable[[str], None]) -> StageRun:
    """`dvc repro --single-item STAGE`: upstream stages are the caller's business (it runs them in order)."""
    start = time.monotonic()
    code, lines = stream([sys.executable, "-m", "dvc", "repro", "--single-item", stage], root, on_line)
    seconds = round(time.monotonic() - start, 1)
    if code != 0:
        raise StageError(stage, error_of(lines), seconds)
    return StageRun(stage, status_of(stage, lines), seconds)


def save_experiment(root: Path, name: str, on_line: Callable[[str], None]) -> str | None:
    """`dvc exp save`: params (overrides included), dvc.lock and metrics of this run, kept as a DVC experiment.

    The feedback snapshot's .dvc file goes in even before anyone committed it, so the experiment names the
    snapshot it trained on. Returns the experiment's name, or None where the workspace cannot hold one (no git
    repository or commit).
    """
    cmd = [sys.executable, "-m", "dvc", "exp", "save", "--force", "--name", name]
    if (root / f"{FEEDBACK_SNAPSHOT}.dvc").is_file():
        cmd += ["--include-untracked", f"{FEEDBACK_SNAPSHOT}.dvc"]
    code, _ = stream(cmd, root, on_line)
    return name if code == 0 else None


def track(path: Path, root: Path, on_line: Callable[[str], None]) -> None:
    """`dvc add PATH`: a snapshot of an input DVC cannot read itself (a database) becomes a tracked input.

    The .dvc file is left for the user to commit; `save_experiment` carries it into the run's experiment."""
    start = time.monotonic()
    code, lines = stream([sys.executable, "-m", "dvc", "add", str(path)], root, on_line)
    if code != 0:
        raise StageError(f"dvc add {path}", error_of(lines), round(time.monotonic() - start, 1))
