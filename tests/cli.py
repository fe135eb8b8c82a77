"""`llmops` called in-process, as the console script calls it: exit code, stdout and stderr, no subprocess.

A subprocess stays where process behaviour is the point (ranks, kill -9, servers, the flow engine).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

from cli.common import err_console, out_console
from cli.main import run

# As a wide terminal shows them: rich wraps tables at 80 columns when the output is not a terminal.
out_console.width = err_console.width = 200


def llmops(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            run(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return subprocess.CompletedProcess(["llmops", *args], code, out.getvalue(), err.getvalue())
