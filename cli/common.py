"""What every `llmops` command shares: the typer app, the consoles, the --params option, logging."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from tasks.config.schema import Params, load_params
from tasks.core.errors import LlmopsError
from tasks.core.logs import quiet_libraries

app = typer.Typer(
    help="LLMOps pipeline stages.", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False
)
err_console = Console(stderr=True)
out_console = Console()

# Prefect's local mode: no telemetry from the temporary server or the client (nothing to send it to offline),
# time for the server to start on a busy machine, the `llmops.*` loggers of tasks/ in the flow run's logs, and
# concurrency leases kept on disk (PREFECT_HOME): in the default in-memory storage a lease dies with the temporary
# server, and the workspace slot of a killed `llmops retrain` stayed taken for good (flows/workspace_lock.py).
PREFECT_LOCAL_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect.server.concurrency.lease_storage.filesystem",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "llmops",
}


def prefect_local_mode() -> None:
    """PREFECT_LOCAL_DEFAULTS where the user set nothing; before prefect is imported, which reads them once."""
    for key, value in PREFECT_LOCAL_DEFAULTS.items():
        os.environ.setdefault(key, value)


ParamsOpt = Annotated[Path, typer.Option("--params", "-p", help="params file", envvar="LLMOPS_PARAMS")]


class _UserErrorFormatter(logging.Formatter):
    """No traceback on the terminal for our own errors (a flow engine logs them with one); the message says it all.
    The record itself keeps it, for the Prefect UI."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], LlmopsError):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def setup_logging(verbose: bool) -> None:
    """Rich on a terminal; plain lines in a pipe (a DVC stage under Prefect, CI), which the reader timestamps."""
    if err_console.is_terminal:
        handler: logging.Handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(_UserErrorFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_UserErrorFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    quiet_libraries()


def timestamped() -> None:
    """A long-running server's plain log lines carry their time (rich shows it; a stage's lines are timestamped
    by whoever reads them)."""
    for handler in logging.getLogger().handlers:
        if not isinstance(handler, RichHandler):
            handler.setFormatter(_UserErrorFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    setup_logging(verbose)


def load(path: Path) -> Params:
    return load_params(path)
