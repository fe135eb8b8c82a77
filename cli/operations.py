"""`llmops retrain | watch | serve | drift | param`: the flows run here, the server, drift checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from cli.common import ParamsOpt, app, load, out_console, prefect_local_mode, timestamped


@app.command()
def retrain(
    epochs: Annotated[int | None, typer.Option(help="train.epochs")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="train.learning_rate")] = None,
    max_steps: Annotated[int | None, typer.Option(help="train.max_steps")] = None,
    base_model: Annotated[str | None, typer.Option(help="model.base")] = None,
    profile: Annotated[str | None, typer.Option(help="params profile, e.g. smoke")] = None,
    set_params: Annotated[list[str] | None, typer.Option("--set", "-S", help="KEY=VALUE, any param")] = None,
    dry_run: Annotated[bool, typer.Option(help="decide at the gate; register and move nothing")] = False,
    reason: Annotated[str, typer.Option(help="why this run (recorded in MLflow)")] = "manual",
) -> None:
    """Run the Prefect retrain flow here: DVC stages, evaluation, gated deploy; then a summary (exit 3: refused).

    Without PREFECT_API_URL, Prefect starts a temporary local server for the run; with it, the run shows in
    that server's UI.
    """
    import orjson

    from tasks.config.overrides import preview_overrides, requested_overrides
    from tasks.registry.summary import render_retrain

    # a bad key or value fails here, before Prefect starts a server for nothing (the flow checks again: UI runs)
    preview_overrides(Path("params.yaml"), requested_overrides(epochs, learning_rate, max_steps, base_model, profile,
                                                               set_params))  # fmt: skip
    prefect_local_mode()
    from flows.retrain import SUMMARY
    from flows.retrain import retrain as flow

    SUMMARY.unlink(missing_ok=True)
    try:
        flow(epochs, learning_rate, max_steps, base_model, profile, set_params, dry_run, reason)
    finally:
        if SUMMARY.is_file():
            render_retrain(out_console, orjson.loads(SUMMARY.read_bytes()))


@app.command()
def watch(
    window: Annotated[str | None, typer.Option(help='"request_log" or a JSONL file; default: drift.window')] = None,
    retrain_on_drift: Annotated[bool, typer.Option("--retrain", help="on drift, run the retrain flow here")] = False,
) -> None:
    """Run the drift-watch flow here (for cron without a Prefect server); --retrain plays the drift trigger."""
    prefect_local_mode()
    from flows.drift_watch import drift_watch

    result = drift_watch(window)
    out_console.print(f"drift-watch: {result['reason']} (MLflow run {result['mlflow_run_id']})")
    if result["status"] == "drift" and retrain_on_drift:
        retrain(reason=result["reason"])


@app.command()
def serve(
    params: ParamsOpt = Path("params.yaml"),
    host: Annotated[str | None, typer.Option(help="default: serving.host")] = None,
    port: Annotated[int | None, typer.Option(help="default: serving.port")] = None,
) -> None:
    """Serve models:/NAME@champion over an OpenAI-compatible API; a new champion is picked up without a restart."""
    import uvicorn

    from serving.app import create_app
    from serving.service import build

    timestamped()
    p = load(params)
    service = build(p)
    host, port = host or p.serving.host, port or p.serving.port
    auth = f"API keys from ${p.serving.api_keys_env}" if service.keys else "no API keys (anyone may call)"
    logging.getLogger("llmops.serve").info(
        "listening on http://%s:%d/v1 (/ready answers 503 until %s is loaded; metrics: /metrics); %s",
        host, port, service.watcher.uri, auth,
    )  # fmt: skip
    uvicorn.run(create_app(service), host=host, port=port, log_config=None, timeout_graceful_shutdown=30)


@app.command()
def drift(
    window: Annotated[str | None, typer.Option(help='"request_log" or a JSONL file; default: drift.window')] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Compare recent prompts with the training prompts: a decision with its reason, a report, an MLflow run."""
    from rich.table import Table

    from tasks.monitoring import drift_run as drift_check

    outcome = drift_check.run(load(params), Path("."), window)
    result = outcome.result
    table = Table(title=f"drift check: {outcome.source}")
    for column in ("check", "fired", "p-value", "what it saw"):
        table.add_column(column)
    for c in result.checks:
        table.add_row(c.name, "[red]yes[/]" if c.fired else "no", f"{c.p_value:.3g}", c.detail)
    if result.checks:
        out_console.print(table)
    color = {"drift": "red", "no_drift": "green"}.get(result.status, "yellow")
    head, _, rest = result.reason.partition(":")
    out_console.print(f"[{color}]{head}[/]:{rest}")
    for line in outcome.answers_table():
        out_console.print(f"answers {line}")
    out_console.print(f"report: {outcome.report}; MLflow run {outcome.run_id} (`make mlflow-ui`)")


@app.command()
def param(key: Annotated[str, typer.Argument(help="dotted key, e.g. orchestration.drift_watch_cron")],
          params: ParamsOpt = Path("params.yaml")) -> None:  # fmt: skip
    """Print one param as the stages see it (profile applied); prefect.yaml reads the drift-watch cron with it."""
    from tasks.core.errors import ConfigError

    node = load(params).model_dump(by_alias=True)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{params}: no param {key!r}")
        node = node[part]
    typer.echo(node if isinstance(node, str) else json.dumps(node))


@app.command()
def profile(
    name: Annotated[str, typer.Argument(help="a file in params/ (e.g. smoke), or default to see the known ones")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write params/NAME.yaml into params.yaml (comments kept): DVC sees plain values, reruns only what changed."""
    from tasks.config.overrides import apply_overrides
    from tasks.config.profiles import DEFAULT, known_profiles

    if name == DEFAULT:
        out_console.print(f"profiles: {', '.join(known_profiles(params))} (`git checkout {params}` returns to default)")
        return
    applied = apply_overrides(params, {"profile": name})
    out_console.print(f"{params}: profile {applied.profile} applied; `dvc status` shows the stages it makes stale")
