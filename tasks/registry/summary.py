"""A terminal summary of the pipeline stages and where to look at their results."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console
from rich.table import Table

from tasks.config.metrics import gap_key
from tasks.evaluation.gate import Check
from tasks.evaluation.judge import describe as describe_judge

if TYPE_CHECKING:
    from tasks.registry.deploy import DeployResult, Status
    from tasks.registry.prompt_deploy import PromptDeployResult


def _load(path: Path) -> dict | None:
    return orjson.loads(path.read_bytes()) if path.is_file() else None


def render(
    console: Console, prepared: Path, validation: Path, split_summary: Path, train: Path, evaluation: Path
) -> None:
    table = Table(title="llmops pipeline", show_lines=False)
    table.add_column("stage")
    table.add_column("result")
    table.add_column("output")
    if (s := _load(prepared)) is not None:
        reasons = ", ".join(f"{k} {v}" for k, v in s["dropped"].items())
        pii = ", ".join(f"{k} {v}" for k, v in s["pii_replaced"].items())
        table.add_row(
            "prepare",
            f"{s['rows_in']} in, {s['rows_kept']} kept, {s['rows_dropped']} quarantined\n"
            f"({reasons})\nPII replaced: {pii}",
            str(prepared.parent),
        )
    if (v := _load(validation)) is not None:
        table.add_row(
            "validate", f"{v['passed']}/{v['evaluated']} expectations passed", str(validation.with_suffix(".html"))
        )
    if (sp := _load(split_summary)) is not None:
        sizes = ", ".join(f"{name} {sp['rows'][name]}" for name in ("train", "validation", "test"))
        table.add_row("split", sizes, str(split_summary.parent))
    if (t := _load(train)) is not None:
        table.add_row(
            "train",
            f"{t['steps']} steps, val loss {t['initial_val_loss']:.3f} -> {t['val_loss']:.3f}\n"
            f"{t['tokens_per_s']} tokens/s, {t['train_seconds']:.0f} s",
            "models/adapter",
        )
    if (e := _load(evaluation)) is not None:
        table.add_row(
            "evaluate", _evaluation(e, _load(evaluation.with_name("eval_base.json"))), "data/reports/evaluation.html"
        )
    if (d := _load(evaluation.with_name("deploy.json"))) is not None:
        table.add_row("deploy", _deployment(d), "`llmops status`")
    console.print(table)
    console.print(
        "Quarantined rows with reasons: data/prepared/quarantine.jsonl   "
        "Metrics: `dvc metrics show`   Loss curve: `dvc plots show`   Lineage: `dvc dag`\n"
        "MLflow runs, loss curves and the logged model: `.venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db`"
        " then open http://127.0.0.1:5000\n"
        "Champion and the history of gate decisions: `llmops status`   Undo a promotion: `llmops rollback`"
    )


def _deployment(d: dict) -> str:
    alias = f"@{d['alias']}"
    if d["status"] == "passed" and d["champion_after"] != d["champion_before"]:
        moved = f"{alias} -> v{d['champion_after']}"
    else:
        moved = f"{alias} stays at {'v' + d['champion_after'] if d['champion_after'] else 'none'}"
    version = f"v{d['version']}" if d["version"] else "dry run"
    lines = [f"{d['model']} {version}: gate {d['status']}; {moved}", *d["failed_checks"]]
    return "\n".join(lines)


def _evaluation(tuned: dict, base: dict | None) -> str:
    """Fine-tuned metrics with the base model's value beside each."""
    lines = []
    for key in ("perplexity", "rougeL", "bleu", "intent_accuracy", "pii_leak_rate", "injection_follow_rate"):
        if key in tuned:
            before = f" (base {base[key]:.3f})" if base and key in base else ""
            lines.append(f"{key} {tuned[key]:.3f}{before}")
    lines.append(f"{tuned['rows']} test rows, {tuned['latency_ms_mean']:.0f} ms/reply")
    gaps = [f"{m} {tuned[gap_key(m)]:.3f} (p {tuned[f'{gap_key(m)}_p']:.2g})"
            for m in ("refusal_rate", "intent_accuracy") if gap_key(m) in tuned]  # fmt: skip
    if gaps:
        lines.append(f"fairness, largest gap between groups: {', '.join(gaps)}")
    if judged := describe_judge(tuned):
        lines.append(f"judge ({tuned['judge']['model']}): {'; '.join(judged)}")
    if "reply_cluster_purity" in tuned:
        apart = tuned.get("fairness_group_separation")
        group = f", most apart: {tuned['fairness_group_separation_group']} {apart:.2f}" if apart is not None else ""
        lines.append(f"embedding map: reply clusters {tuned['reply_cluster_purity']:.2f} pure by intent"
                     f" (prompts {tuned['prompt_cluster_purity']:.2f}){group}")  # fmt: skip
    return "\n".join(lines)


def _checks_table(title: str, checks: Sequence[Check]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("check")
    table.add_column("value [interval]", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("result")
    for c in checks:
        verdict = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
        table.add_row(c.metric, c.kind, c.shown(), f"{c.threshold:.4g}", verdict + (f" ({c.note})" if c.note else ""))
    return table


def render_decision(console: Console, result: DeployResult, name: str, alias: str) -> None:
    """Every gate check with its value and threshold, then what happened to the alias."""
    decision = result.decision
    title = f"gate for {name} " + (f"version {result.version}" if result.version else "(dry run, nothing registered)")
    if decision.checks:
        console.print(_checks_table(title, decision.checks))
    before = f"v{result.champion_before}" if result.champion_before else "none"
    if result.version is not None and result.version == result.champion_before:
        console.print(decision.reason)
    elif result.dry_run:
        outcome = "would move to the new version" if decision.passed else f"would stay at {before}"
        console.print(f"dry run: gate {decision.status}; @{alias} {outcome}; nothing was changed")
    elif decision.passed:
        console.print(f"[green]promoted[/]: @{alias} {before} -> v{result.champion_after} ({decision.reason})")
    else:
        console.print(f"[red]not promoted[/] ({decision.status}): @{alias} stays at {before}")


def render_prompt_decision(console: Console, result: PromptDeployResult, alias: str) -> None:
    """The gate's checks for a prompt version with the champion model, then what happened to the prompt's alias."""
    decision, before = result.decision, f"v{result.before}" if result.before else "none"
    if decision.checks:
        title = f"gate for {result.prompt} version {result.version} with model v{result.model_version}"
        console.print(_checks_table(title, decision.checks))
    if result.run_id is None:  # nothing was evaluated: the version already serves
        console.print(decision.reason)
        return
    console.print(f"evaluation logged to MLflow run {result.run_id}")
    if result.dry_run:
        outcome = f"would move to v{result.version}" if decision.passed else f"would stay at {before}"
        console.print(f"dry run: gate {decision.status}; @{alias} of {result.prompt} {outcome}; nothing was changed")
    elif decision.passed:
        console.print(f"[green]promoted[/]: {result.prompt} @{alias} {before} -> v{result.after}; the server "
                      "renders it from its next poll")  # fmt: skip
    else:
        console.print(f"[red]not promoted[/] ({decision.status}): {result.prompt} @{alias} stays at {before}")


def _shorten(reason: str, width: int = 160) -> str:
    """At a word boundary, so a number is never cut in half ("injection_follow_rate = 0." read as zero)."""
    return textwrap.shorten(reason, width, placeholder=" …")


def render_status(console: Console, status: Status, limit: int = 20) -> None:
    champion = f"v{status.champion} (run {status.champion_run})" if status.champion else "none yet"
    console.print(f"[bold]{status.name}[/] @{status.alias}: {champion}")
    if status.metrics:
        shown = ("perplexity", "rougeL", "bleu", "intent_accuracy", "pii_leak_rate", "injection_follow_rate")
        console.print("  " + ", ".join(f"{k} {status.metrics[k]:.4g}" for k in shown if k in status.metrics))
    history = Table(title=f"decisions and alias moves (last {limit})")
    for column in ("when (UTC)", "action", "version", f"@{status.alias} before -> after", "by", "reason"):
        history.add_column(column)
    for e in status.history[-limit:]:
        move = f"{e.previous or '-'} -> {e.champion or '-'}"
        history.add_row(e.at[:19].replace("T", " "), e.action, e.version, move, e.by, _shorten(e.reason))
    console.print(history)
    versions = Table(title="versions")
    for column in ("version", "gate", "run", "prompts (moved with @" + status.alias + ")"):
        versions.add_column(column)
    for v in status.versions[-limit:]:
        versions.add_row(v["version"], v["status"], v["run_id"], v.get("prompts") or "-")
    console.print(versions)
    if status.prompt_champion or status.prompt_history:
        console.print(f"[bold]{status.prompt}[/] @{status.alias}: v{status.prompt_champion or '-'}")
    if status.prompt_history:
        prompt_moves = Table(title=f"prompt deploys and rollbacks (last {limit})")
        for column in ("when (UTC)", "action", "prompt version", "with model", "before -> after", "by", "reason"):
            prompt_moves.add_column(column)
        for e in status.prompt_history[-limit:]:
            move = f"{e.previous or '-'} -> {e.champion or '-'}"
            prompt_moves.add_row(e.at[:19].replace("T", " "), e.action, e.version, f"v{e.model_version}", move, e.by,
                                 _shorten(e.reason))  # fmt: skip
        console.print(prompt_moves)


MLFLOW_UI = "make mlflow-ui  (then open http://127.0.0.1:5000)"
_OUTCOME = {
    "promoted": "promoted: @{alias} {before} -> {after}",
    "unchanged": "unchanged: the evaluated run is already @{alias} ({after})",
    "refused": "not promoted ({status}): @{alias} stays at {before}",
    "dry run": "dry run ({status}): @{alias} stays at {before}; nothing was registered",
}


def retrain_verdict(summary: dict[str, Any]) -> str:
    """One line: what happened to the champion, or which stage failed and why."""
    d = summary.get("deploy")
    if summary["outcome"] == "failed" or d is None:
        failed = next((s for s in summary["stages"] if s["status"] == "failed"), None)
        where = f"stage {failed['stage']}: {failed['error']}" if failed else (summary.get("error") or "unknown error")
        return f"failed at {where}; @champion did not move"
    version = lambda v: f"v{v}" if v else "none"  # noqa: E731
    return _OUTCOME[summary["outcome"]].format(
        alias=d["alias"], before=version(d["champion_before"]), after=version(d["champion_after"]), status=d["status"]
    )


def _stage_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [(s["stage"], s["status"] + (f": {s['error']}" if s["error"] else ""), f"{s['seconds']:.1f} s")
            for s in summary["stages"]]  # fmt: skip
    total = sum(s["seconds"] for s in summary["stages"])
    return [*rows, ("total", "", f"{total:.1f} s")]


def _inputs_line(summary: dict[str, Any]) -> str:
    """What the flow took from outside DVC before the stages: the request log's feedback, @champion's adapter."""
    f, w = summary.get("feedback"), summary.get("warm_start")
    said = f"Feedback: {f['said']}" if f else "Feedback: no snapshot taken"
    return f"{said}. Warm start: {w['why']}" if w else said


def render_retrain(console: Console, summary: dict[str, Any]) -> None:
    """The end of `llmops retrain`: stages with their time, the gate's checks, the decision, where to look."""
    table = Table(title=f"retrain {summary['flow_run']} (overrides: {summary['overrides'] or 'none'})")
    for column in ("stage", "status", "time"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for row in _stage_rows(summary):
        table.add_row(*row)
    console.print(_inputs_line(summary))
    if summary["stages"]:
        console.print(table)
    d = summary.get("deploy")
    if d and d["checks"]:
        version = f"version {d['version']}" if d["version"] else "(dry run)"
        console.print(_checks_table(f"gate for {d['model']} {version}", [Check(**c) for c in d["checks"]]))
    console.print(retrain_verdict(summary))
    run = f"MLflow run {summary['mlflow_run_id']}: " if summary.get("mlflow_run_id") else "MLflow: "
    console.print(f"{run}{MLFLOW_UI}   DVC experiment: {summary.get('experiment') or 'none'} (`dvc exp show`)")


def retrain_markdown(summary: dict[str, Any]) -> str:
    """The same summary as a Prefect artifact on the flow run."""
    lines = [f"## retrain {summary['flow_run']}", "", f"**{retrain_verdict(summary)}**", "",
             f"Overrides: `{summary['overrides'] or 'none'}`; reason: {summary['reason']}", "", _inputs_line(summary),
             "", "| stage | status | time |", "| --- | --- | ---: |"]  # fmt: skip
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _stage_rows(summary)]
    d = summary.get("deploy")
    if d and d["checks"]:
        lines += ["", "| metric | check | value [interval] | threshold | result |", "| --- | --- | ---: | ---: | --- |"]
        for c in (Check(**c) for c in d["checks"]):
            lines.append(f"| {c.metric} | {c.kind} | {c.shown()} | {c.threshold:.4g} | "
                         f"{'pass' if c.passed else '**FAIL**'} |")  # fmt: skip
    if summary.get("mlflow_run_id"):
        lines += ["", f"MLflow run `{summary['mlflow_run_id']}`; DVC experiment `{summary.get('experiment')}`"]
    return "\n".join(lines)
