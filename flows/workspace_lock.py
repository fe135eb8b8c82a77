"""One flow run at a time per DVC workspace, through a Prefect global concurrency limit.

DVC's own repository lock makes a second `dvc repro` fail at once; this makes a second flow run wait its
turn instead (and show as waiting in the UI), and fail with a reason if the wait is too long. The slot is a
lease the holder renews, so a flow run that crashed gives it back when the lease runs out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_run_logger

from tasks.core.errors import WorkspaceBusyError


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


@contextmanager
def workspace_slot(root: Path, wait_s: float) -> Iterator[None]:
    name = limit_name(root)
    _ensure_limit(name)
    get_run_logger().info("waiting for workspace %s (concurrency limit %s, up to %.0f s)", root.resolve(), name, wait_s)
    held = ExitStack()
    try:
        held.enter_context(concurrency(name, occupy=1, timeout_seconds=wait_s, strict=True))
    except TimeoutError:
        raise WorkspaceBusyError(
            f"another flow run has held workspace {root.resolve()} for more than {wait_s:.0f} s "
            f"(Prefect concurrency limit {name!r}; see Concurrency in the UI). Try again when it has finished, "
            "or raise orchestration.workspace_wait_s."
        ) from None
    with held:
        yield
