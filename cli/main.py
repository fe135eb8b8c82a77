"""The `llmops` command: entry point of every DVC stage, Prefect task and person.

llmops --help
llmops prepare data/raw/support.jsonl --out data/prepared
"""

from __future__ import annotations

import sys

from rich.markup import escape

from cli import demo, operations, registry, stages  # noqa: F401  (each registers its commands on the app)
from cli.common import app, err_console
from tasks.core.errors import LlmopsError


def run(argv: list[str] | None = None) -> None:
    """Console-script wrapper: user-caused errors become one line on stderr and exit code 1.

    Typer's standalone mode already turns usage errors into a message and exit code 2. `argv` lets tests call
    the command in-process, exactly as the console script does.
    """
    try:
        app(args=argv)
    except LlmopsError as err:
        err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(getattr(err, "exit_code", 1))
