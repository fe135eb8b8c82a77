from dataclasses import asdict

from rich.console import Console

from tasks.evaluation.gate import Check
from tasks.registry.summary import render_retrain, retrain_markdown, retrain_verdict

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
