"""`dvc repro` of every stage in a fresh git repository, with the smoke profile (tiny model, real DeepSpeed)."""

import json
import time
from pathlib import Path

import pytest

from tests.workspace import make_workspace, sh

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = make_workspace(tmp_path_factory.mktemp("ws"))
    sh("dvc", "repro", cwd=ws)
    return ws


def test_repro_builds_every_output(workspace: Path) -> None:
    for out in (
        "data/raw/support.jsonl",
        "models/base/model.safetensors",
        "data/prepared/records.jsonl",
        "data/prepared/quarantine.jsonl",
        "data/reports/validation.html",
        "data/split/train.jsonl",
        "data/split/test.jsonl",
        "models/adapter/adapter_model.safetensors",
        "data/reports/train_history.csv",
        "data/reports/eval_base.json",
        "data/reports/eval.json",
        "data/reports/evaluation.html",
        "mlflow.db",
        "dvc.lock",
    ):
        assert (workspace / out).is_file(), out
    summary = json.loads((workspace / "data/prepared/summary.json").read_text())
    assert summary["rows_in"] == summary["rows_kept"] + summary["rows_dropped"] > 0
    metrics = json.loads(sh("dvc", "metrics", "show", "--json", cwd=workspace))
    assert "rows_kept" in json.dumps(metrics)
    (workspace_metrics,) = metrics.values()
    train = workspace_metrics["data"]["data/reports/train.json"]["data"]
    assert train["steps"] == 8 and train["val_loss"] > 0
    evaluation = workspace_metrics["data"]["data/reports/eval.json"]["data"]
    base = workspace_metrics["data"]["data/reports/eval_base.json"]["data"]
    assert evaluation["rows"] == base["rows"] == 16 and evaluation["perplexity"] != base["perplexity"]
    plots = json.loads(sh("dvc", "plots", "show", "--json", cwd=workspace))
    assert "data/reports/train_history.csv" in json.dumps(plots)


def test_second_repro_is_a_fast_no_op(workspace: Path) -> None:
    start = time.perf_counter()
    out = sh("dvc", "repro", cwd=workspace)
    elapsed = time.perf_counter() - start
    assert "Running stage" not in out
    assert elapsed < 3, f"no-op dvc repro took {elapsed:.1f}s"


def test_param_change_reruns_only_downstream(workspace: Path) -> None:
    sh("git", "add", "-A", cwd=workspace)
    sh("git", "commit", "-qm", "baseline", cwd=workspace)
    out = sh("dvc", "exp", "run", "-S", "split.seed=5", cwd=workspace)
    assert "Running stage 'split'" in out
    assert "Running stage 'train'" in out and "Running stage 'evaluate'" in out
    for upstream in ("generate", "base_model", "prepare", "validate"):
        assert f"Running stage '{upstream}'" not in out


def test_deploy_promotes_the_evaluated_smoke_model(workspace: Path) -> None:
    def said(*args: str) -> str:  # rich wraps at 80 columns without a terminal
        return " ".join(sh(*args, cwd=workspace).split())

    assert "promoted: @champion none -> v1" in said("llmops", "deploy")
    assert "is already @champion as version 1; nothing to do" in said("llmops", "deploy")
    assert "llmops-support @champion: v1" in said("llmops", "status")
