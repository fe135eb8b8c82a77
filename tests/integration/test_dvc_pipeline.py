"""`dvc repro` of every stage in a git repository, with the smoke profile (tiny model, real DeepSpeed).

The session's smoke pipeline is the repro under test; this module works on its own copy."""

import json
import re
import time
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from serving.app import create_app
from tasks.config.overrides import apply_overrides
from tasks.config.schema import IndexParams
from tasks.registry import store
from tasks.registry.store import APPROVED_ON
from tests.cli import llmops
from tests.serving import NAME, load_tiny, make_service
from tests.workspace import copy_workspace, sh

pytestmark = pytest.mark.integration

RETRIEVAL = ("-S", "context.enabled=true", "-S", "serving.retrieval.top_k=3")


@pytest.fixture(scope="module")
def workspace(smoke_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_workspace(smoke_pipeline, tmp_path_factory.mktemp("pipeline") / "ws")


def test_repro_builds_every_output(workspace: Path) -> None:
    for out in (
        "data/raw/support.jsonl",
        "data/probes/generated/benign.jsonl",
        "models/base/model.safetensors",
        "data/prepared/records.jsonl",
        "data/prepared/quarantine.jsonl",
        "data/reports/validation.html",
        "data/split/train.jsonl",
        "data/split/test.jsonl",
        "models/adapter/adapter_model.safetensors",
        "data/reports/train_history.csv",
        "data/reports/train_history.png",
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
    assert evaluation["over_refusal_rate_n"] == 12 and evaluation["injection_follow_rate_n"] == 12 + 12
    plots = json.loads(sh("dvc", "plots", "show", "--json", cwd=workspace))
    assert "data/reports/train_history.csv" in json.dumps(plots)
    sh("dvc", "plots", "show", "--out", "plots", cwd=workspace)  # the page draws the CSV with Vega from a CDN...
    images = re.findall(r'<img src="([^"]+)"', (workspace / "plots/index.html").read_text())
    assert [i for i in images if i.endswith("train_history.png")]  # ...and shows the PNG without any network
    assert all((workspace / "plots" / i).is_file() for i in images)


def test_a_second_repro_runs_nothing(workspace: Path) -> None:
    """Every input is a tracked file (the request log reaches the pipeline only as a snapshot), so a repro of an
    unchanged workspace runs no stage."""
    out = sh("dvc", "repro", cwd=workspace)
    assert [line for line in out.splitlines() if "Running stage" in line] == []
    assert "up to date" in sh("dvc", "status", cwd=workspace)


def test_a_key_makes_stale_only_the_stages_that_read_it(workspace: Path) -> None:
    """The smoke profile is plain values in params.yaml, so a stage lists only its own keys: a gate threshold
    (read by no stage) makes nothing stale, a parity tolerance only the parity check; an evaluation key makes exactly
    the two evaluations and the parity check (which evaluates again with transformers) stale. (`dvc status`
    lists the stages whose own inputs changed; what runs downstream of them is test_feedback's subject.)"""

    def stale() -> set[str]:
        return set(json.loads(sh("dvc", "status", "--json", cwd=workspace)))

    params = workspace / "params.yaml"
    original = params.read_text()
    cases = [
        ({"gate.min.rougeL": 0.5}, set()),
        ({"gate.parity.rougeL": 0.05}, {"parity"}),
        ({"evaluate.max_new_tokens": 12}, {"evaluate_base", "evaluate", "parity"}),
        ({"split.seed": 5}, {"split"}),
        ({"profile": "smoke", "train.learning_rate": 0.01}, {"train"}),  # the profile again changes nothing
    ]
    try:
        for overrides, expected in cases:
            params.write_text(original)
            apply_overrides(params, overrides)
            assert stale() == expected, overrides
    finally:
        params.write_text(original)
    assert stale() == set()


def test_deploy_promotes_the_evaluated_smoke_model(workspace: Path) -> None:
    def said(*args: str) -> str:
        result = llmops(*args, cwd=workspace)
        assert result.returncode == 0, result.stdout + result.stderr
        return " ".join(result.stdout.split())

    assert "promoted: @champion none -> v1" in said("deploy")
    assert "is already @champion as version 1; nothing to do" in said("deploy")
    assert "llmops-support @champion: v1" in said("status")


def test_feedback_and_a_param_change_rerun_only_downstream_with_lineage(workspace: Path) -> None:
    """An experiment with retrieved context after feedback came in: rated and corrected requests in the request log
    change nothing until `llmops feedback` snapshots them; the snapshot reaches the splits through prepare, the
    rows are grounded on the help centre, everything upstream is reused, the training run lists the feedback ids
    its train split holds, and in DVC's temporary workspace (`dvc exp run --temp`, as `--queue` runs), which has no
    request log, the committed experiment is up to date."""

    from tasks.monitoring.request_log import Entry, RequestLog

    log = RequestLog(f"sqlite:///{workspace / 'data/serving/requests.db'}", retention_days=30)
    asks = {
        "good": "How do I turn on the satellite messaging add-on for my prepaid plan when I travel abroad?",
        "fixed": "Can I move my family bundle discount onto the new fibre broadband contract I signed last week?",
        "bad": "Why does the router app show a firmware warning after the latest update on my phone?",
    }
    for key, prompt in asks.items():
        answer = f"Here is what to do about {key}: open the app and follow the steps shown."
        log.record(Entry(id=f"r-{key}", endpoint="chat", status=200, model_version="1",
                         messages=[{"role": "user", "content": prompt}], completion=answer))  # fmt: skip
    log.add_feedback("r-good", 1, None, None)
    log.add_feedback("r-fixed", -1, "Yes: call us with both account numbers and we move the discount within a day.",
                     None)  # fmt: skip
    log.add_feedback("r-bad", -1, None, "unhelpful")
    log.close()
    assert "up to date" in sh("dvc", "status", cwd=workspace)  # the database is no input of the pipeline

    first, again = (llmops("feedback", cwd=workspace) for _ in range(2))  # in-process; `dvc add` is a subprocess
    assert first.returncode == 0 and "feedback: 2 training records (1 corrected, 1 approved)" in first.stdout
    assert "-> data/feedback/snapshot" in first.stdout and "unchanged since" in again.stdout
    sh("git", "add", "-A", cwd=workspace)
    sh("git", "commit", "-qm", "feedback snapshot", cwd=workspace)
    out = sh("dvc", "exp", "run", "train", *RETRIEVAL, cwd=workspace)  # the lineage ends at training
    for stage in ("prepare", "validate", "split", "context", "train"):
        assert f"Running stage '{stage}'" in out
    for upstream in ("generate", "base_model", "index"):
        assert f"Running stage '{upstream}'" not in out
    sh("git", "add", "-A", cwd=workspace)
    sh("git", "commit", "-qm", "retrieved context, with feedback", cwd=workspace)
    temp = sh("dvc", "exp", "run", "--temp", "train", *RETRIEVAL, cwd=workspace)  # a copy, no database
    assert "Running stage" not in temp and "Stage 'train' didn't change" in temp
    assert "context.enabled" in sh("dvc", "exp", "show", "--csv", cwd=workspace)
    summary = json.loads((workspace / "data/feedback/snapshot/summary.json").read_text())
    assert summary["records"] == 2 and summary["corrections"] == 1 and summary["approved"] == 1
    assert summary["skipped"] == {"rated -1 or 0 without a correction": 1}
    prepared = [json.loads(line) for line in (workspace / "data/prepared/records.jsonl").read_text().splitlines()]
    fed = {r["id"]: r for r in prepared if r["id"].startswith("fb-")}
    assert set(fed) == {"fb-1", "fb-2"}
    assert fed["fb-2"]["messages"][-1]["content"].startswith("Yes: call us with both account numbers")
    in_train = sorted(r for r in fed if r in (workspace / "data/split/train.jsonl").read_text())

    uri = f"sqlite:///{workspace / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("llmops")
    [run] = client.search_runs([experiment.experiment_id], "tags.`llmops.stage` = 'train'",
                               order_by=["attributes.start_time DESC"], max_results=1)  # fmt: skip
    assert run.data.tags["llmops.feedback.records"] == str(len(in_train))
    assert run.data.tags["llmops.context"] == "retrieved"
    assert run.data.tags["dvc.data/feedback"].endswith(".dir")  # the snapshot folder's hash in dvc.lock
    listed = json.loads(Path(client.download_artifacts(run.info.run_id, "training/feedback_ids.json")).read_text())
    assert listed == {"train_split_feedback_ids": in_train}


def ran(out: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w-]+)'", out))


def a_price_the_test_rows_quote(ws: Path) -> tuple[Path, str, str]:
    """An article line with a price that a test row's retrieved context carries: the edit the evaluation must see."""
    test_context = (ws / "data/grounded/test.jsonl").read_text()
    for article in sorted((ws / "data/kb").glob("*.md")):
        for line in article.read_text().splitlines():
            if (price := re.search(r"\d+\.\d\d EUR", line)) and line in test_context:
                return article, line, line.replace(price.group(), "123.45 EUR")
    raise AssertionError("no test row's context quotes a price")


def test_an_article_edit_reindexes_and_rechecks_the_champion_without_retraining(
    workspace: Path, tmp_path: Path, tiny_model_dir: Path, guard_classifier: Path
) -> None:
    """A knowledge update without retraining, on the model the experiment above trained with retrieved context: an
    edited help-centre price reruns the index, the test rows and the evaluations but not `train`; the gate decides
    on the champion again, and the running server retrieves the new price once it has: until then it serves the
    index version the champion passed on (docs/knowledge.md)."""
    ws = workspace
    sh("dvc", "remove", "kb", cwd=ws)  # the help centre becomes the team's own articles (docs/knowledge.md)
    sh("dvc", "add", "data/kb", cwd=ws)
    apply_overrides(ws / "params.yaml", {"gate.min": {"rougeL": 0.0}})  # a random model states no fact to check
    assert ran(sh("dvc", "repro", "evaluate", cwd=ws)) == {"evaluate_base", "evaluate"}
    assert "promoted: @champion v1 -> v2" in " ".join(sh("llmops", "deploy", cwd=ws).split())
    client = MlflowClient(f"sqlite:///{ws / 'mlflow.db'}")
    champion = store.champion(client, NAME, "champion")
    approved = client.get_model_version(NAME, champion).tags[APPROVED_ON]
    index = IndexParams(uri=str(ws / "data/index"))
    service = make_service(tmp_path, load_tiny(tiny_model_dir, champion), guard_classifier, index=index,
                           max_new_tokens=4, default_max_tokens=4,
                           retrieval={"top_k": 2, "refresh_s": 0.05})  # fmt: skip
    service.index_source = partial(store.approved_index, client, NAME)  # what build() wires up
    service.refresh_index()  # as a model swap does
    article, old, new = a_price_the_test_rows_quote(ws)
    assert "pinned index version" in sh("llmops", "pin-index", cwd=ws)  # training rows stay on today's index
    body = {"model": NAME, "messages": [{"role": "user", "content": old}]}
    with TestClient(create_app(service)) as server:
        before = server.post("/v1/chat/completions", json=body)
        source = before.json()["sources"][0]["id"]
        assert source.startswith(article.stem + "#") and approved.endswith("|" + before.headers["x-index-version"])

        article.write_text(article.read_text().replace(old, new))
        reran = ran(sh("dvc", "repro", "evaluate", cwd=ws))  # train is upstream of evaluate: DVC decides on it
        assert {"index", "context", "evaluate_base", "evaluate"} <= reran and "train" not in reran
        grounded = json.loads((ws / "data/grounded/summary.json").read_text())
        assert grounded["train_index_version"] != grounded["index_version"]  # training rows stayed on the pin
        time.sleep(0.1)
        service.every_poll()
        unchecked = server.post("/v1/chat/completions", json=body)  # the gate has not decided on the new index yet
        assert unchecked.headers["x-index-version"] == before.headers["x-index-version"]
        said = sh("llmops", "deploy", cwd=ws)
        assert "evaluated again on index" in said, said
        assert store.champion(client, NAME, "champion") == champion  # the same model, decided on again
        rechecked = client.get_model_version(NAME, champion).tags
        assert rechecked[APPROVED_ON].endswith("|" + grounded["index_version"]) and rechecked[APPROVED_ON] != approved
        assert store.history(client, NAME)[-1].action == "recheck"

        service.every_poll()  # the champion watcher's poll
        after = server.post("/v1/chat/completions", json=body)
        assert after.headers["x-index-version"] == grounded["index_version"] != before.headers["x-index-version"]
        [hit] = service.retriever.search(new, 1)
        assert hit.id == after.json()["sources"][0]["id"] == source and new in hit.text
