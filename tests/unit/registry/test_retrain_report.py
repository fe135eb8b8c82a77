import re
from dataclasses import asdict

from rich.console import Console

from tasks.evaluation.gate import Check
from tasks.registry.summary import render_retrain, render_status, retrain_markdown, retrain_verdict

STAGES = [
    {"stage": "prepare", "status": "unchanged", "seconds": 3.0, "error": ""},
    {"stage": "train", "status": "ran", "seconds": 120.5, "error": ""},
]
FAILED_CHECK = Check("rougeL", "min", 0.05, 0.1, False)


def summary(outcome: str, **deploy) -> dict:
    d = {"model": "m", "alias": "champion", "version": "2", "dry_run": False, "status": "failed", "reason": "r",
         "champion_before": "1", "champion_after": "1", "failed_checks": [FAILED_CHECK.describe()],
         "checks": [asdict(FAILED_CHECK), asdict(Check("perplexity", "max", 20.0, 50.0, True))], **deploy}  # fmt: skip
    return {"flow_run": "brave-otter", "overrides": {"train.epochs": 2}, "reason": "manual", "stages": STAGES,
            "deploy": d, "outcome": outcome, "error": None, "mlflow_run_id": "abc",
            "experiment": "prefect-x"}  # fmt: skip


def test_verdicts_say_where_the_champion_is() -> None:
    assert retrain_verdict(summary("refused")) == "not promoted (failed): @champion stays at v1"
    promoted = summary("promoted", status="passed", champion_after="2")
    assert retrain_verdict(promoted) == "promoted: @champion v1 -> v2"
    crashed = {**summary("failed"), "deploy": None, "stages": [*STAGES[:1], {**STAGES[1], "status": "failed",
               "error": "training failed: rank 1 failed: boom"}]}  # fmt: skip
    assert (
        retrain_verdict(crashed)
        == "failed at stage train: training failed: rank 1 failed: boom; @champion did not move"
    )


def test_summary_table_shows_stages_times_and_every_check() -> None:
    console = Console(width=120, record=True)
    render_retrain(console, summary("refused"))
    text = console.export_text()
    assert "train" in text and "120.5 s" in text and "total" in text and "123.5 s" in text
    assert "rougeL" in text and "FAIL" in text and "perplexity" in text
    assert "stays at v1" in text and "make mlflow-ui" in text and "prefect-x" in text


def test_markdown_artifact_has_the_same_facts() -> None:
    md = retrain_markdown(summary("refused"))
    assert "| train | ran | 120.5 s |" in md and "| rougeL | min | 0.05 | 0.1 | **FAIL** |" in md
    assert "not promoted" in md and "`abc`" in md


def test_both_say_what_came_from_outside_dvc() -> None:
    fed = {**summary("refused"), "feedback": {"said": "12 corrections"}, "warm_start": {"why": "v1's adapter -> w"}}
    assert "Feedback: 12 corrections. Warm start: v1's adapter -> w" in retrain_markdown(fed)
    assert "Feedback: no snapshot taken\n" in retrain_markdown(summary("refused"))


def test_status_never_cuts_a_number_in_a_reason() -> None:
    from tasks.registry.deploy import Status
    from tasks.registry.store import Event

    reason = "gate failed: " + "; ".join(f"check_{i} = 0.{i}375, needs <= 0.1: FAILED" for i in range(1, 9))
    event = Event("2026-12-03T10:00:00.000000Z", "reject", "2", "1", "1", "ci", reason)
    console = Console(record=True, width=400)
    render_status(console, Status("m", "champion", "1", "r", {}, [event], []))
    shown = next(line for line in console.export_text().splitlines() if "reject" in line)
    numbers = re.findall(r"check_\d = (\S+)", shown)
    assert numbers and all(re.fullmatch(r"0\.\d375,", n) for n in numbers), shown
    assert " …" in shown  # shortened, at a space
