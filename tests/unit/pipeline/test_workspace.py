import subprocess
import sys
from pathlib import Path

import yaml

from tasks.pipeline.workspace import error_of, stage_plan, status_of, stream


def test_our_error_line_beats_dvcs_summary() -> None:
    lines = [
        "INFO llmops.train: launching 2 rank(s)",
        "error: training failed: rank 1 failed: RuntimeError: boom",
        "ERROR: failed to reproduce 'train': failed to run: llmops train, exited with 1",
    ]
    assert error_of(lines) == "training failed: rank 1 failed: RuntimeError: boom"
    assert error_of(lines[2:]) == "failed to reproduce 'train': failed to run: llmops train, exited with 1"
    assert error_of([]) == "no output"


def test_status_of_reads_what_dvc_said() -> None:
    assert status_of("split", ["Stage 'split' didn't change, skipping"]) == "unchanged"
    assert status_of("split", ["Stage 'split' is cached - skipping run, checking out outputs"]) == "restored"
    assert status_of("split", ["Running stage 'split':", "> llmops split"]) == "ran"


def test_stream_passes_every_line_as_it_comes(tmp_path: Path) -> None:
    seen: list[str] = []
    script = "import sys\nfor i in range(3): print(f'line {i}')\nprint('oops', file=sys.stderr)\nsys.exit(4)"
    code, tail = stream([sys.executable, "-c", script], tmp_path, seen.append)
    assert code == 4
    assert seen == tail == ["line 0", "line 1", "line 2", "oops"]


def test_only_stages_with_nothing_changed_upstream_are_settled(tmp_path: Path) -> None:
    """a -> b -> c, and d on its own, in a real git + DVC repository."""
    copy = "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"
    stages = {
        "a": {"cmd": f'python -c "{copy}" in.txt a.txt', "deps": ["in.txt"], "outs": ["a.txt"]},
        "b": {"cmd": f'python -c "{copy}" a.txt b.txt', "deps": ["a.txt"], "outs": ["b.txt"]},
        "c": {"cmd": f'python -c "{copy}" b.txt c.txt', "deps": ["b.txt"], "params": ["c.n"], "outs": ["c.txt"]},
        "d": {"cmd": f'python -c "{copy}" other.txt d.txt', "deps": ["other.txt"], "outs": ["d.txt"]},
    }
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))
    (tmp_path / "params.yaml").write_text("c: {n: 1}\n")
    (tmp_path / "in.txt").write_text("in")
    (tmp_path / "other.txt").write_text("other")
    dvc = [sys.executable, "-m", "dvc"]
    for cmd in (["git", "init", "-q"], [*dvc, "init", "-q"], [*dvc, "repro", "-q"]):
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)

    def settled() -> set[str]:
        return {stage for stage, done in stage_plan(tmp_path) if done}

    order = [stage for stage, _ in stage_plan(tmp_path)]
    assert sorted(order) == ["a", "b", "c", "d"] and order.index("a") < order.index("b") < order.index("c")
    assert settled() == {"a", "b", "c", "d"}
    (tmp_path / "params.yaml").write_text("c: {n: 2}\n")
    assert settled() == {"a", "b", "d"}
    (tmp_path / "in.txt").write_text("changed")
    assert settled() == {"d"}  # b and c are unchanged now, but a is about to rewrite their inputs
