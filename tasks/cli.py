"""The `llmops` command: entry point of every DVC stage, Prefect task and person.

llmops --help
llmops prepare data/raw/support.jsonl --out data/prepared
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from tasks.config import Params, load_params
from tasks.errors import LlmopsError
from tasks.logs import quiet_libraries

app = typer.Typer(
    help="LLMOps pipeline stages.", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False
)
err_console = Console(stderr=True)
out_console = Console()

# Prefect's local mode: no telemetry from the temporary server or the client (nothing to send it to offline),
# time for the server to start on a busy machine, and the `llmops.*` loggers of tasks/ in the flow run's logs.
PREFECT_LOCAL_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "llmops",
}

ParamsOpt = Annotated[Path, typer.Option("--params", "-p", help="params file", envvar="LLMOPS_PARAMS")]


class _UserErrorFormatter(logging.Formatter):
    """No traceback on the terminal for our own errors (a flow engine logs them with one); the message says it all.
    The record itself keeps it, for the Prefect UI."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], LlmopsError):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def _setup_logging(verbose: bool) -> None:
    """Rich on a terminal; plain lines in a pipe (a DVC stage under Prefect, CI), which the reader timestamps."""
    if err_console.is_terminal:
        handler: logging.Handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(_UserErrorFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_UserErrorFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    quiet_libraries()


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    _setup_logging(verbose)


def _params(path: Path) -> Params:
    return load_params(path)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="where to write the raw dataset")] = Path("data/raw/support.jsonl"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the seeded telecom support dataset (with its deliberate dirt)."""
    from tasks.generate import write_dataset

    summary = write_dataset(_params(params).generate, out)
    out_console.print(f"wrote {summary['records']} records ({summary['malformed_lines']} malformed) to {out}")


@app.command()
def traffic(
    out: Annotated[Path, typer.Option(help="where to write the traffic set")] = Path("data/traffic/shifted.jsonl"),
    n: Annotated[int, typer.Option(min=1)] = 1000,
    seed: int = 1,
    shift_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.2,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write production-like prompts (the training data's intent mix) with a share about new products."""
    from tasks.generate import write_traffic

    write_traffic(n, seed, shift_share, out, _params(params).generate.seed)
    out_console.print(f"wrote {n} prompts ({shift_share:.0%} shifted) to {out}")


@app.command("base-model")
def base_model(
    out: Annotated[Path, typer.Option(help="materialised model directory")] = Path("models/base"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Materialise model.base (shipped GGUF, tiny, local dir or hub id) as safetensors + tokenizer."""
    from tasks.base_model import materialize

    info = materialize(_params(params).model.base, out)
    out_console.print(f"base model {info['source']!r}: {info['parameters']:,} parameters -> {out}")


@app.command()
def prepare(
    inputs: Annotated[list[Path], typer.Argument(help="raw files: .jsonl, .json, .csv, .parquet")],
    out: Annotated[Path, typer.Option(help="output directory")] = Path("data/prepared"),
    model_dir: Annotated[Path, typer.Option(help="materialised base model (tokenizer)")] = Path("models/base"),
    feedback: Annotated[Path | None, typer.Option(help="records from `llmops feedback`; may be empty")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Load, normalise, scrub PII, filter and deduplicate; quarantine every dropped row with its reason."""
    from tasks.prepare import prepare as run

    cfg = _params(params)
    summary = run(inputs, out, cfg.prepare, model_dir, feedback)
    reasons = ", ".join(f"{k}={v}" for k, v in summary["dropped"].items()) or "none"
    out_console.print(
        f"prepare: {summary['rows_in']} rows in, {summary['rows_kept']} kept, "
        f"{summary['rows_dropped']} quarantined ({reasons}) -> {out}"
    )


@app.command()
def validate(
    data: Annotated[Path, typer.Option(help="prepared records")] = Path("data/prepared/records.jsonl"),
    reports: Annotated[Path, typer.Option(help="report directory")] = Path("data/reports"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Run the great-expectations suite built from params; fail naming each broken expectation."""
    from tasks.validate import validate as run

    cfg = _params(params)
    result = run(data, reports, cfg.validate_, cfg.prepare)
    out_console.print(
        f"validate: {result['passed']}/{result['evaluated']} expectations passed; report {reports / 'validation.html'}"
    )


@app.command()
def split(
    data: Annotated[Path, typer.Option(help="prepared records")] = Path("data/prepared/records.jsonl"),
    out: Annotated[Path, typer.Option(help="output directory")] = Path("data/split"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Deterministic train/validation/test split, stratified by intent, no duplicate across splits."""
    from tasks.split import split as run

    cfg = _params(params)
    summary = run(data, out, cfg.split, cfg.prepare)
    sizes = ", ".join(f"{k}={v}" for k, v in summary["rows"].items())
    out_console.print(f"split: {sizes} ({summary['groups']} duplicate-free groups) -> {out}")


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="split directory (train.jsonl, validation.jsonl)")] = Path("data/split"),
    base: Annotated[Path, typer.Option(help="materialised base model")] = Path("models/base"),
    out: Annotated[Path, typer.Option(help="LoRA adapter directory")] = Path("models/adapter"),
    metrics: Annotated[Path, typer.Option(help="metrics summary (DVC metrics)")] = Path("data/reports/train.json"),
    history: Annotated[Path, typer.Option(help="per-step history (DVC plots)")] = Path(
        "data/reports/train_history.csv"
    ),
    checkpoints: Annotated[Path, typer.Option(help="resumable checkpoints")] = Path("models/checkpoints"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA fine-tuning on DeepSpeed ranks; resumes from the last checkpoint after a crash; tracked in MLflow."""
    from tasks.train import TrainPaths
    from tasks.train import train as run

    paths = TrainPaths(params, base, data, out, metrics, history, checkpoints)
    summary = run(_params(params), paths)
    out_console.print(
        f"train: {summary['steps']} steps, val_loss {summary['initial_val_loss']} -> {summary['val_loss']}, "
        f"{summary['tokens_per_s']} tokens/s -> {out}; MLflow run {summary['mlflow_run_id']} ({summary['model_uri']})"
    )


@app.command()
def evaluate(
    out: Annotated[Path, typer.Option(help="metrics (DVC metrics); per-example rows go beside it")] = Path(
        "data/reports/eval.json"
    ),
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter; omit to evaluate the base model")] = None,
    baseline: Annotated[Path | None, typer.Option(help="the base model's metrics, for comparison")] = None,
    run_from: Annotated[Path | None, typer.Option(help="training summary naming the MLflow run to log to")] = None,
    report_html: Annotated[Path | None, typer.Option("--report", help="HTML report to write")] = None,
    data: Annotated[Path, typer.Option(help="split directory (test.jsonl, train.jsonl)")] = Path("data/split"),
    base: Annotated[Path, typer.Option(help="materialised base model")] = Path("models/base"),
    probes: Annotated[Path, typer.Option(help="probe sets")] = Path("data/probes"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Test-split metrics and safety probes; with --run-from, logged to the training run for the deploy gate."""
    from tasks.evaluate import EvalPaths
    from tasks.evaluate import evaluate as run

    paths = EvalPaths(data / "test.jsonl", data / "train.jsonl", base, probes, out, adapter, baseline, run_from,
                      report_html)  # fmt: skip
    s = run(_params(params), paths)
    intent = f", intent accuracy {s['intent_accuracy']:.3f}" if "intent_accuracy" in s else ""
    out_console.print(
        f"evaluate ({s['model']}): perplexity {s['perplexity']:.3f}, ROUGE-L {s['rougeL']:.3f}, BLEU {s['bleu']:.3f}"
        f"{intent}, PII leak {s['pii_leak_rate']:.2f}, injection follow {s['injection_follow_rate']:.2f} -> {out}"
    )


@app.command()
def deploy(
    run_id: Annotated[str | None, typer.Option(help="MLflow run to deploy; default: the one --eval names")] = None,
    eval_metrics: Annotated[Path, typer.Option("--eval", help="evaluation summary")] = Path("data/reports/eval.json"),
    dry_run: Annotated[bool, typer.Option(help="show the decision; register and move nothing")] = False,
    by: Annotated[str | None, typer.Option(help="who deploys (default: $LLMOPS_ACTOR or user@host)")] = None,
    record: Annotated[Path, typer.Option(help="where the decision is written for `llmops report`")] = Path(
        "data/reports/deploy.json"
    ),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Register the evaluated model; @champion moves only if every gate check passes (exit 1 otherwise)."""
    from tasks.deploy import deploy as run
    from tasks.errors import GateRefusedError
    from tasks.io import write_json
    from tasks.report import render_decision
    from tasks.tracking import run_id_in

    cfg = _params(params)
    result = run(cfg, run_id or run_id_in(eval_metrics, "evaluate"), dry_run, by)
    render_decision(out_console, result, cfg.registry.model_name, cfg.registry.alias)
    write_json(record, result.summary(cfg.registry.model_name, cfg.registry.alias))
    if not result.decision.passed:
        raise GateRefusedError(f"gate {result.decision.status}: {result.decision.reason}")


@app.command()
def rollback(
    to: Annotated[str | None, typer.Option(help="version to make champion; default: the previous champion")] = None,
    reason: Annotated[str, typer.Option(help="recorded in the history")] = "",
    force: Annotated[bool, typer.Option(help="allow a version that did not pass the gate")] = False,
    by: Annotated[str | None, typer.Option(help="who rolls back (default: $LLMOPS_ACTOR or user@host)")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Move @champion back (to the previous champion, or --to VERSION); recorded in the history."""
    from tasks.deploy import rollback as run

    cfg = _params(params)
    event = run(cfg, to, reason, force, by)
    out_console.print(f"rolled back: @{cfg.registry.alias} v{event.previous} -> v{event.champion} ({event.reason})")


@app.command()
def status(params: ParamsOpt = Path("params.yaml")) -> None:
    """The champion, its evaluation, and the history of decisions and alias moves."""
    from tasks.deploy import status as run
    from tasks.report import render_status

    render_status(out_console, run(_params(params)))


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

    from tasks.report import render_retrain

    for key, value in PREFECT_LOCAL_DEFAULTS.items():
        os.environ.setdefault(key, value)
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
    for key, value in PREFECT_LOCAL_DEFAULTS.items():
        os.environ.setdefault(key, value)
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

    p = _params(params)
    service = build(p)
    loaded = service.loaded
    host, port = host or p.serving.host, port or p.serving.port
    label = loaded.label if loaded else "?"
    logging.getLogger("llmops.serve").info("serving %s on http://%s:%d/v1 (metrics: /metrics)", label, host, port)
    uvicorn.run(create_app(service), host=host, port=port, log_config=None, timeout_graceful_shutdown=30)


@app.command("feedback")
def feedback_export(
    out: Annotated[Path, typer.Option(help="training records from feedback")] = Path("data/feedback/records.jsonl"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Export rated and corrected requests from the request log as training records (the feedback stage)."""
    from tasks.feedback import export
    from tasks.request_log import url_of

    s = export(url_of(_params(params).serving), out)
    skipped = ", ".join(f"{k}: {v}" for k, v in s["skipped"].items()) or "none"
    out_console.print(f"feedback: {s['records']} training records ({s['corrections']} corrected, {s['approved']} "
                      f"approved) from {s['rated_requests']} rated requests; skipped {skipped} -> {out}")  # fmt: skip


@app.command()
def drift(
    window: Annotated[str | None, typer.Option(help='"request_log" or a JSONL file; default: drift.window')] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Compare recent prompts with the training prompts: a decision with its reason, a report, an MLflow run."""
    from rich.table import Table

    from tasks import drift_check

    outcome = drift_check.run(_params(params), Path("."), window)
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
    out_console.print(f"report: {outcome.report}; MLflow run {outcome.run_id} (`make mlflow-ui`)")


@app.command()
def param(key: Annotated[str, typer.Argument(help="dotted key, e.g. orchestration.drift_watch_cron")],
          params: ParamsOpt = Path("params.yaml")) -> None:  # fmt: skip
    """Print one param as the stages see it (profile applied); prefect.yaml reads the drift-watch cron with it."""
    from tasks.errors import ConfigError

    node = _params(params).model_dump(by_alias=True)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{params}: no param {key!r}")
        node = node[part]
    typer.echo(node if isinstance(node, str) else json.dumps(node))


@app.command()
def report(
    prepared: Annotated[Path, typer.Option()] = Path("data/prepared/summary.json"),
    validation: Annotated[Path, typer.Option()] = Path("data/reports/validation.json"),
    split_summary: Annotated[Path, typer.Option("--split")] = Path("data/split/summary.json"),
    train_metrics: Annotated[Path, typer.Option("--train")] = Path("data/reports/train.json"),
    evaluation: Annotated[Path, typer.Option("--eval")] = Path("data/reports/eval.json"),
) -> None:
    """Summarise the last pipeline run and say where to look."""
    from tasks.report import render

    render(out_console, prepared, validation, split_summary, train_metrics, evaluation)


def run() -> None:
    """Console-script wrapper: user-caused errors become one line on stderr and exit code 1.

    Typer's standalone mode already turns usage errors into a message and exit code 2.
    """
    try:
        app()
    except LlmopsError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(getattr(err, "exit_code", 1))
