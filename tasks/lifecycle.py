"""Child processes that cannot outlive their parent.

torchrun starts every rank in a session of its own, so `kill -9` of `llmops train` (or a cancelled Prefect
run) would leave ranks training on as orphans, still writing checkpoints. Linux's parent-death signal ends
them with their parent instead.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent exits (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
