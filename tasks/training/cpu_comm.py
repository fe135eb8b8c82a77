"""DeepSpeed's shared-memory all-reduce for CPU ranks, compiled once before any rank starts.

DeepSpeed JIT-compiles this op in every rank's `init_distributed`, behind torch's lock file. A process killed while
it holds that file (a rank killed mid-build, a cancelled flow run, a machine restart) leaves it behind, and from then
on every rank on the machine waits for it forever, silently. So the launcher builds the op itself, in a folder of
this virtual environment, under an OS lock that dies with its holder; inside that lock a torch lock file that
outlives a short grace period can only be left over, and is removed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("llmops.train")

OP = "ShareMemCommBuilder"
GRACE_S = 30.0


def extensions_dir() -> Path:
    """Per virtual environment: a second checkout's sources never make this one rebuild."""
    return Path(sys.prefix) / "torch_extensions"


def build() -> dict[str, str]:
    """Compile (or just check) the op; returns the environment the ranks need to find it, and sets it here too,
    since this process imports deepspeed again when peft merges the adapter."""
    env = {"TORCH_EXTENSIONS_DIR": str(extensions_dir()), "DS_ACCELERATOR": "cpu"}
    os.environ.update(env)
    import deepspeed.ops
    from deepspeed.accelerator import get_accelerator

    builder = get_accelerator().create_op_builder(OP)
    if builder is None or not deepspeed.ops.__compatible_ops__.get(builder.NAME, False):
        return env
    folder = extensions_dir() / builder.name
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "llmops.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        clear_stale_lock(folder / "lock")
        started = time.monotonic()
        builder.load(verbose=False)
        log.debug("%s ready in %.1f s", builder.name, time.monotonic() - started)
    return env


def clear_stale_lock(lock: Path, grace_s: float = GRACE_S) -> None:
    """Called holding the OS lock: only a rank checking the op may hold torch's lock now, and only for a moment."""
    deadline = time.monotonic() + grace_s
    while lock.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    if lock.exists():
        log.warning("removing %s, left behind by a killed build", lock)
        lock.unlink(missing_ok=True)
