"""`llmops deploy --prompt` and `llmops rollback --prompt` on a sqlite registry: the tiny champion model, trained
(as far as its run says) with the shipped context prompt and evaluated with it, answers the test split grounded
with a new prompt version from the help centre's real index; the gate decides, the prompt's alias moves or not."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.tracking import MlflowClient

from flows.deploy import deploy_prompt as deploy_prompt_flow
from flows.deploy import rollback as rollback_flow
from tasks.config.schema import GenerateParams, Params, parse_params
from tasks.core.errors import DeployError
from tasks.core.files import read_jsonl, write_jsonl
from tasks.data.synthesize import records
from tasks.knowledge.context import shipped
from tasks.models.downloaded import merged_dir
from tasks.registry.deploy import deploy, status
from tasks.registry.prompt_deploy import Inputs, deploy_prompt, gate_tag, rollback_prompt
from tasks.registry.store import move_alias

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NAME = "support-prompts"
PROMPT = f"{NAME}-context"
# The tiny model's replies are noise: no floors, and regressions only as large as a prompt's wording could cause.
GATE = {"min": {"rougeL": 0.0}, "max": {}, "min_gain_over_base": {}, "max_disparity": {},
        "max_regression": {"rougeL": 0.5, "perplexity": 1000.0}}  # fmt: skip
REWORDED = shipped().template.replace("help centre sections", "sections of our help centre")


def settings(root: Path, kb_index: Path, guard: Path, gate: dict) -> dict:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    return {
        "mlflow": {"tracking_uri": uri, "experiment": "prompts"},
        "registry": {"model_name": NAME, "lock_wait_s": 5},
        "context": {"enabled": True},
        "index": {"uri": str(kb_index / "index")},
        "serving": {"guard": {"classifier": str(guard)}, "retrieval": {"top_k": 3}},
        "evaluate": {
            "max_rows": 6,
            "batch_size": 6,
            "max_new_tokens": 6,
            "probe_max_new_tokens": 6,
            "judge": {"enabled": False},
        },  # the judge's own tests: tests/unit/evaluation/test_judge.py
        "gate": gate,
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, logged_tiny_model: str, kb_index: Path,
              guard_classifier: Path) -> tuple[Path, Params]:  # fmt: skip
    """v1 of the model is @champion: its run used prompt v1 (the shipped text) and logged its evaluation."""
    from tasks.data.grounding import write_grounded
    from tasks.evaluation import run_log
    from tasks.evaluation.evaluate import evaluate
    from tasks.evaluation.paths import EvalPaths
    from tasks.knowledge.retrieve import Retriever
    from tasks.models.embeddings import embed
    from tasks.tracking import prompts

    root = tmp_path_factory.mktemp("prompt-deploy")
    support = [r for r in itertools.islice(records(GenerateParams(n_records=300, seed=11)), 300)
               if r.get("intent") in ("roaming_charges", "plan_change", "router_setup")]  # fmt: skip
    split = root / "data" / "split"
    write_jsonl(split / "test.jsonl", support[:6])
    write_jsonl(split / "intents.jsonl", [{"intent": r["intent"], "reply": r["messages"][-1]["content"]}
                                          for r in {r["intent"]: r for r in support}.values()])  # fmt: skip
    shutil.copytree(REPO / "data" / "probes", root / "data" / "probes", ignore=shutil.ignore_patterns("generated"))
    params = parse_params(settings(root, kb_index, guard_classifier, GATE))
    (root / "params.yaml").write_text(yaml.safe_dump(settings(root, kb_index, guard_classifier, GATE)))

    uri = params.mlflow.tracking_uri
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("prompts", artifact_location=str(root / "artifacts"))
    run = client.create_run(experiment, run_name="trained with context")
    client.set_tag(run.info.run_id, "llmops.model_uri", logged_tiny_model)
    prompts.record_on_run(client, run.info.run_id, prompts.register(client, PROMPT, shipped().template))
    grounded = root / "grounded"
    write_grounded(split, grounded, Retriever(params.index.uri, "chunks", embed), params.serving.retrieval,
                   params.context, ("test",))  # fmt: skip
    paths = EvalPaths(grounded / "test.jsonl", split / "intents.jsonl", merged_dir(Path(logged_tiny_model)),
                      root / "data" / "probes", root / "eval.json")  # fmt: skip
    summary = evaluate(params, paths)
    examples = list(read_jsonl(paths.examples))
    run_log.log_evaluation(run.info.run_id, paths, summary, examples, summary, examples)
    assert deploy(params, run.info.run_id).decision.passed
    return root, params


@pytest.fixture
def inside(workspace: tuple[Path, Params], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Params, MlflowClient]:
    root, params = workspace
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", params.mlflow.tracking_uri)
    uri = params.mlflow.tracking_uri
    return root, params, MlflowClient(tracking_uri=uri, registry_uri=uri)


def served(client: MlflowClient) -> str:
    return str(client.get_prompt_version_by_alias(PROMPT, "champion").version)


def test_a_prompt_version_is_evaluated_with_the_champion_gated_and_rolled_back(inside, harness, emitted) -> None:
    root, params, client = inside
    assert served(client) == "1"  # the model's promotion took the prompt it was trained with along
    two = client.register_prompt(PROMPT, REWORDED).version
    impossible = params.model_copy(update={"gate": parse_params({"gate": {**GATE, "min": {"rougeL": 2}}}).gate})

    looked = deploy_prompt(params, str(two), Inputs(root / "data/split", root / "data/probes"), dry_run=True)
    assert looked.decision.passed and looked.after == "1" and served(client) == "1"  # a dry run moves nothing
    assert gate_tag("1", "status") not in client.get_prompt_version(PROMPT, two).tags  # and records no decision
    refused = deploy_prompt(impossible, str(two), Inputs(root / "data/split", root / "data/probes"))
    assert refused.decision.status == "failed" and "rougeL" in refused.decision.reason
    assert served(client) == "1" and refused.after == "1"  # never promoted by accident
    run = client.get_run(refused.run_id)
    assert run.data.tags["llmops.eval.status"] == "complete" and "eval.rougeL" in run.data.metrics
    assert f'"version": "{two}"' in run.data.tags["mlflow.linkedPrompts"]  # the prompt's page lists its evaluations
    assert client.get_prompt_version(PROMPT, two).tags[gate_tag("1", "status")] == "failed"

    promoted = deploy_prompt_flow(version=str(two))  # the Prefect flow; it runs `llmops deploy --prompt`
    assert promoted["status"] == "passed" and (promoted["before"], promoted["after"]) == ("1", str(two))
    assert served(client) == str(two)
    assert f"prompt {PROMPT} v{two} with {NAME} v1" == client.get_run(promoted["run_id"]).info.run_name
    model_version = client.get_model_version(NAME, "1")
    assert model_version.tags[f"llmops.prompt.{PROMPT}"] == str(two)  # what a later rollback to v1 brings back
    move_alias(client, NAME, "champion", "1")
    assert served(client) == str(two)

    with pytest.raises(DeployError, match="already @champion"):
        rollback_prompt(params, to=str(two))
    with pytest.raises(DeployError, match="no version 9"):
        rollback_prompt(params, to="9")
    back = rollback_flow(reason="customers liked v1 better", prompt=True)
    assert back == {"champion": "1", "previous": str(two), "reason": "customers liked v1 better"}
    assert served(client) == "1"
    history = status(params).prompt_history
    assert [(e.action, e.version, e.previous, e.champion, e.model_version) for e in history] == [
        ("reject", str(two), "1", "1", "1"), ("promote", str(two), "1", str(two), "1"),
        ("rollback", "1", str(two), "1", "1"),
    ]  # fmt: skip
    emitted.drain()
    events = [e for e in emitted._client.events if e.event.startswith("llmops.")]
    assert [e.event for e in events] == ["llmops.prompt.promoted", "llmops.prompt.rolled_back"]
    assert all(e.resource.id == f"llmops.model.{NAME}" for e in events)
    assert {f"mlflow.prompt.{PROMPT}", f"mlflow.run.{promoted['run_id']}"} <= {r.id for r in events[0].related}
    again = deploy_prompt(params, "1", Inputs(root / "data/split", root / "data/probes"))
    assert again.run_id is None and "already @champion" in again.decision.reason  # nothing evaluated


def test_prompt_versions_that_cannot_work_are_refused_before_any_evaluation(inside) -> None:
    _, params, client = inside
    runs = len(client.search_runs([client.get_experiment_by_name("prompts").experiment_id]))
    blind = client.register_prompt(PROMPT, "Answer politely and briefly.").version
    with pytest.raises(DeployError, match="no \\{\\{sections\\}\\}"):
        deploy_prompt(params, str(blind))
    fine = client.register_prompt(PROMPT, REWORDED.replace("sections", "parts", 1)).version
    with pytest.raises(DeployError, match=r"nowhere/test\.jsonl: the test split .* run `dvc repro split` first"):
        deploy_prompt(params, str(fine), Inputs(split=Path("nowhere")))
    with pytest.raises(DeployError, match="has no version 99"):
        deploy_prompt(params, "99")
    off = params.model_copy(update={"context": params.context.model_copy(update={"enabled": False})})
    with pytest.raises(DeployError, match=r"context\.enabled is false"):
        deploy_prompt(off, "1")
    with pytest.raises(DeployError, match="did not pass the gate with model v1"):
        rollback_prompt(params, to=str(blind))
    assert len(client.search_runs([client.get_experiment_by_name("prompts").experiment_id])) == runs
