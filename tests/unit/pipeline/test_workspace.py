import sys
from pathlib import Path

from tasks.pipeline.workspace import error_of, status_of, stream


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
