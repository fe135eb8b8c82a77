"""`llmops demo` on the smoke profile: the whole loop, as `make demo` runs it. The first retrain finds every stage
built and promotes v1; customers talk to the server through the official client; in-distribution traffic is no
drift; traffic about new products, with the staff's corrections, is; the retrain on old data + feedback passes
the gate, and the running server answers with v2 without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.workspace import copy_workspace, sh

pytestmark = pytest.mark.integration


def test_the_demo_closes_the_loop(smoke_pipeline: Path, tmp_path: Path) -> None:
    ws = copy_workspace(smoke_pipeline, tmp_path / "ws")
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["serving"].update({"poll_s": 1, "rate_limit_per_minute": 0})
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "commit", "-qam", "serving settings for the test", cwd=ws)

    out = " ".join(sh("llmops", "demo", "--customers", "200", "--max-tokens", "8", cwd=ws, timeout=1500).split())
    assert "the loop closed" in out, out[-6000:]
    summary = orjson.loads((ws / "data/reports/demo/summary.json").read_bytes())
    steps = {step["name"]: step for step in summary["steps"]}
    assert summary["closed"] and all(step["ok"] for step in summary["steps"])
    assert list(steps) == ["retrain", "serve", "customers", "drift-watch", "new products", "feedback",
                           "drift-watch + retrain", "hot swap"]  # fmt: skip
    assert steps["customers"]["result"].endswith("answered by v1") and steps["drift-watch"]["result"].startswith(
        "no drift"
    )
    assert steps["hot swap"]["result"].startswith("v2 answers after")
    first, second = (orjson.loads((ws / f"data/reports/demo/retrain-{i}.json").read_bytes()) for i in (1, 2))
    assert first["outcome"] == second["outcome"] == "promoted"
    assert first["reason"] == "demo" and second["reason"].startswith("drift: ")
    ran = [s["stage"] for s in second["stages"] if s["status"] == "ran"]
    assert ran[:2] == ["prepare", "validate"] and "evaluate" in ran
    assert "evaluate_base" not in ran  # feedback repeating a test prompt is held back: the test split is the same
    assert not first["warm_start"]["exported"] and second["warm_start"]["version"] == 1
    assert first["feedback"]["exported_at"] is None and second["feedback"]["changed"]  # no feedback, no snapshot
    assert second["feedback"]["corrections"] > 80  # every answer about a new product (60 % of 200), corrected
    snapshot = orjson.loads((ws / "data/feedback/snapshot/summary.json").read_bytes())
    assert snapshot["exported_at"] == second["feedback"]["exported_at"]
    assert (ws / "data/feedback/snapshot.dvc").is_file()
    uri = f"sqlite:///{ws / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert str(client.get_model_version_by_alias("llmops-support", "champion").version) == "2"
    tags = client.get_run(second["mlflow_run_id"]).data.tags  # the run the drift retrain trained
    assert orjson.loads(tags["llmops.overrides"]) == {}
    assert tags["llmops.warm_start"].startswith("v1 (run ")  # and its warm_start_steps, logged as what it ran
    assert client.get_run(second["mlflow_run_id"]).data.params["train.max_steps"] == "4"
    (record,) = [orjson.loads(v) for k, v in tags.items() if k.startswith("llmops.flow_run.")]
    assert record["reason"] == second["reason"] and record["flow_run"] == second["flow_run"]


def test_a_refusing_gate_stops_the_demo_at_its_step_with_exit_3(smoke_pipeline: Path, tmp_path: Path) -> None:
    ws = copy_workspace(smoke_pipeline, tmp_path / "ws")
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["gate"]["min"]["rougeL"] = 2  # no stage reads the gate: nothing reruns, the deploy refuses
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "commit", "-qam", "an impossible threshold", cwd=ws)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the workspace's params.yaml picks the store
    result = subprocess.run(["llmops", "demo"], cwd=ws, env=env, capture_output=True, text=True, timeout=900)
    out = " ".join(result.stdout.split())
    assert result.returncode == 3, out[-4000:] + result.stderr[-2000:]
    assert "did not close" in out and "not promoted (failed): @champion stays at none" in out
    assert "the loop stopped at retrain" in result.stderr
    summary = orjson.loads((ws / "data/reports/demo/summary.json").read_bytes())
    assert not summary["closed"]
    assert [(s["name"], s["ok"]) for s in summary["steps"]] == [("retrain", False)]  # nothing after it ran
