"""`llmops deploy | rollback | status | report`: the gated registry moves and what they say."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import ParamsOpt, app, load, out_console

PROMPT_HELP = "deploy this version of the context prompt instead: evaluated with the champion model, gated alike"


@app.command()
def deploy(
    run_id: Annotated[str | None, typer.Option(help="MLflow run to deploy; default: the one --eval names")] = None,
    eval_metrics: Annotated[Path, typer.Option("--eval", help="evaluation summary")] = Path("data/reports/eval.json"),
    dry_run: Annotated[bool, typer.Option(help="show the decision; register and move nothing")] = False,
    by: Annotated[str | None, typer.Option(help="who deploys (default: $LLMOPS_ACTOR or user@host)")] = None,
    record: Annotated[Path, typer.Option(help="where the decision is written for `llmops report`")] = Path(
        "data/reports/deploy.json"
    ),
    prompt: Annotated[str | None, typer.Option(help=PROMPT_HELP)] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Register the evaluated model (once per run); @champion moves only if every gate check passes.

    With --prompt VERSION, the context prompt's @champion moves instead (docs/knowledge.md, "Deploying a prompt
    version").
    Exit 0 when it was promoted (or already is the champion), 3 when the gate refused it or could not decide,
    1 on any other error.
    """
    from tasks.core.errors import GateRefusedError
    from tasks.core.files import write_json
    from tasks.registry.deploy import deploy as run
    from tasks.registry.prompt_deploy import PROMPT_DECISION
    from tasks.registry.summary import render_decision
    from tasks.tracking.runs import run_id_in

    cfg = load(params)
    if prompt is not None:
        _deploy_prompt(cfg, prompt, dry_run, by, record.with_name(PROMPT_DECISION.name))
        return
    result = run(cfg, run_id or run_id_in(eval_metrics, "evaluate"), dry_run, by)
    render_decision(out_console, result, cfg.registry.model_name, cfg.registry.alias)
    write_json(record, result.summary(cfg.registry.model_name, cfg.registry.alias))
    if not result.decision.passed:
        raise GateRefusedError(f"gate {result.decision.status}: {result.decision.reason}")


def _deploy_prompt(cfg, version: str, dry_run: bool, by: str | None, record: Path) -> None:
    from serving.local import judge_server
    from tasks.core.errors import GateRefusedError
    from tasks.core.files import write_json
    from tasks.registry.prompt_deploy import Inputs, deploy_prompt
    from tasks.registry.summary import render_prompt_decision

    with judge_server(cfg) as own_judge:
        result = deploy_prompt(cfg, version, Inputs(own_judge=own_judge), dry_run=dry_run, by=by)
    render_prompt_decision(out_console, result, cfg.registry.alias)
    write_json(record, result.summary())
    if not result.decision.passed:
        raise GateRefusedError(f"gate {result.decision.status}: {result.decision.reason}")


@app.command()
def rollback(
    to: Annotated[str | None, typer.Option(help="version to make champion; default: the previous champion")] = None,
    reason: Annotated[str, typer.Option(help="recorded in the history")] = "",
    force: Annotated[bool, typer.Option(help="allow a version that did not pass the gate")] = False,
    by: Annotated[str | None, typer.Option(help="who rolls back (default: $LLMOPS_ACTOR or user@host)")] = None,
    prompt: Annotated[bool, typer.Option("--prompt", help="roll back the context prompt's @champion instead")] = False,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Move @champion back (to the previous champion, or --to VERSION); recorded in the history."""
    from tasks.registry.deploy import rollback as run
    from tasks.registry.prompt_deploy import rollback_prompt

    cfg = load(params)
    event = (rollback_prompt if prompt else run)(cfg, to, reason, force, by)
    what = f"prompt @{cfg.registry.alias}" if prompt else f"@{cfg.registry.alias}"
    before = f"v{event.previous}" if event.previous else "none"  # a prompt with no alias before the rollback
    out_console.print(f"rolled back: {what} {before} -> v{event.champion} ({event.reason})")


@app.command()
def status(params: ParamsOpt = Path("params.yaml")) -> None:
    """The champion, its evaluation, and the history of decisions and alias moves."""
    from tasks.registry.deploy import status as run
    from tasks.registry.summary import render_status

    render_status(out_console, run(load(params)))


@app.command()
def report(
    prepared: Annotated[Path, typer.Option()] = Path("data/prepared/summary.json"),
    validation: Annotated[Path, typer.Option()] = Path("data/reports/validation.json"),
    split_summary: Annotated[Path, typer.Option("--split")] = Path("data/split/summary.json"),
    train_metrics: Annotated[Path, typer.Option("--train")] = Path("data/reports/train.json"),
    evaluation: Annotated[Path, typer.Option("--eval")] = Path("data/reports/eval.json"),
) -> None:
    """Summarise the last pipeline run and say where to look."""
    from tasks.registry.summary import render

    render(out_console, prepared, validation, split_summary, train_metrics, evaluation)
