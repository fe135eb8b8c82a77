"""One flow run at a time per DVC workspace, through a Prefect global concurrency limit.

DVC's own repository lock makes a second `dvc repro` fail at once; this makes a second flow run wait its
turn instead (and show as waiting in the UI), and fail with a reason if the wait is too long. The slot is a
lease the holder renews, so a flow run that was killed gives it back when the lease runs out (LEASE_S) and the
server's repossessor next looks (every 15 s). Prefect's local mode has neither: each process has its own
temporary server, which runs no repossessor, and its in-memory leases die with it while the slot stays taken. So
the CLI keeps leases on disk (cli/common.py), and here a run in local mode gives back the expired ones itself
before it asks for the slot.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_run_logger
from prefect.settings import get_current_settings
from prefect.utilities.asyncutils import run_coro_as_sync

from tasks.core.errors import WorkspaceBusyError

LEASE_S = 60.0  # the shortest lease Prefect's server accepts
POLL_S = 15.0  # as often as Prefect's repossessor looks


def limit_name(root: Path) -> str:
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    return f"llmops-workspace-{digest}"


def _ensure_limit(name: str) -> None:
    """Prefect 3 no longer creates a limit on first use; create it with one slot (a race to create is fine)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


def reclaim_expired_leases() -> int:
    """Local mode only (no PREFECT_API_URL, leases on disk): release what the repossessor would have."""
    settings = get_current_settings()
    if settings.api.url or not settings.server.concurrency.lease_storage.endswith(".filesystem"):
        return 0
    from prefect.server.concurrency.lease_storage.filesystem import ConcurrencyLeaseStorage

    expired = run_coro_as_sync(ConcurrencyLeaseStorage().read_expired_lease_ids()) or []
    with get_client(sync_client=True) as client:
        for lease_id in expired:
            client.release_concurrency_slots_with_lease(lease_id)
    return len(expired)


@contextmanager
def workspace_slot(root: Path, wait_s: float) -> Iterator[None]:
    name = limit_name(root)
    _ensure_limit(name)
    logger = get_run_logger()
    logger.info("waiting for workspace %s (concurrency limit %s, up to %.0f s)", root.resolve(), name, wait_s)
    held, deadline = ExitStack(), time.monotonic() + wait_s
    while True:  # in turns of POLL_S, so that a lease expiring meanwhile is given back on the next turn
        if reclaimed := reclaim_expired_leases():
            logger.warning("gave back %d expired concurrency lease(s): runs killed while they held a slot", reclaimed)
        turn = min(POLL_S, max(deadline - time.monotonic(), 1.0))
        try:
            held.enter_context(concurrency(name, occupy=1, timeout_seconds=turn, lease_duration=LEASE_S, strict=True))
            break
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise WorkspaceBusyError(
                    f"another flow run has held workspace {root.resolve()} for more than {wait_s:.0f} s "
                    f"(Prefect concurrency limit {name!r}; see Concurrency in the UI). Try again when it has "
                    "finished, or raise orchestration.workspace_wait_s."
                ) from None
    with held:
        yield
