"""Two local-mode runs after the same workspace slot, as two `llmops retrain` would take it: each process with its
own temporary Prefect server. The first is killed with its server while it holds the slot; the second gets the
slot once the lease ran out (60 s, the shortest Prefect's server accepts).

`killed_holder` in conftest.py starts them with the session on the worker that will check them, so that other
tests run during that minute instead of a worker waiting it out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LEASE_TEST = "test_a_killed_local_run_gives_the_workspace_back_when_its_lease_runs_out"
LEASE_MODULE = "integration/test_flows.py"

HOLDER = """
import os, sys, time
from pathlib import Path
from cli.common import prefect_local_mode
prefect_local_mode()
from prefect import flow
from flows.workspace_lock import workspace_slot

@flow
def hold(mode: str) -> None:
    started = time.monotonic()
    with workspace_slot(Path(sys.argv[2]), wait_s=150):
        print(f"{mode}: slot after {time.monotonic() - started:.0f} s", flush=True)
        if mode == "crash":
            os.killpg(0, 9)  # this process and its temporary Prefect server, as `kill -9 -PGID` would

hold(sys.argv[1])
"""


def crash_then_wait(root: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The killed holder's run, then the waiting one's, each in a new session (its own process group)."""
    (root / "hold.py").write_text(HOLDER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_HOME": str(root / "home"), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def hold(mode: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(root / "hold.py"), mode, str(root)], env=env,
                              capture_output=True, text=True, timeout=240, start_new_session=True)  # fmt: skip

    return hold("crash"), hold("wait")
