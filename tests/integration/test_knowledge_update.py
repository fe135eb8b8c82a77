"""A knowledge update without retraining: an edited help-centre price reruns the index, the test rows and the
evaluations but not `train`; the gate decides on the champion again, and the running server retrieves the new
price once it has: until then it serves the index version the champion passed on (docs/knowledge.md)."""

from __future__ import annotations

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
from tests.serving import NAME, load_tiny, make_service
from tests.workspace import copy_workspace, sh

pytestmark = pytest.mark.integration


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
    smoke_pipeline: Path, tmp_path: Path, tiny_model_dir: Path, guard_classifier: Path
) -> None:
    ws = copy_workspace(smoke_pipeline, tmp_path / "ws")
    sh("dvc", "remove", "kb", cwd=ws)  # the help centre becomes the team's own articles (docs/knowledge.md)
    sh("dvc", "add", "data/kb", cwd=ws)
    retrieval_on = {"context.enabled": True, "serving.retrieval.top_k": 3}
    apply_overrides(ws / "params.yaml", {**retrieval_on, "gate.min": {"rougeL": 0.0}})  # a random model states no fact
    assert "pinned index version" in sh("llmops", "pin-index", cwd=ws)
    assert {"context", "train", "evaluate"} <= ran(sh("dvc", "repro", "evaluate", cwd=ws))
    assert "promote" in sh("llmops", "deploy", cwd=ws)
    client = MlflowClient(f"sqlite:///{ws / 'mlflow.db'}")
    champion = store.champion(client, NAME, "champion")
    approved = client.get_model_version(NAME, champion).tags[APPROVED_ON]
    index = IndexParams(uri=str(ws / "data/index"))
    service = make_service(tmp_path, load_tiny(tiny_model_dir), guard_classifier, index=index, max_new_tokens=4,
                           default_max_tokens=4,
                           retrieval={"top_k": 2, "refresh_s": 0.05})  # fmt: skip
    service.index_source = partial(store.approved_index, client, NAME, "champion")  # what build() wires up
    article, old, new = a_price_the_test_rows_quote(ws)
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
