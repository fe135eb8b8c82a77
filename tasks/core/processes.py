"""Child processes: ones that cannot outlive their parent, a port for them to listen on, waiting for them to serve.

torchrun starts every rank in a session of its own, so `kill -9` of `llmops train` (or a cancelled Prefect
run) would leave ranks training on as orphans, still writing checkpoints. Linux's parent-death signal ends
them with their parent instead.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

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


def free_port() -> int:
    """A loopback port nothing listens on now: a rank rendezvous, or a server started by a test or a bench."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Poll `url` until it answers 200; a server that exits first, or the deadline, raises saying which."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChildProcessError(f"{' '.join(map(str, proc.args))} exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")
