"""Prompt versions in MLflow's Prompt Registry on a sqlite store: one version per text, recorded on the run and the
model version that used it, and an alias that follows the model's."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from tasks.config.schema import parse_params
from tasks.knowledge.context import Prompt, shipped
from tasks.registry.deploy import status
from tasks.registry.store import move_alias
from tasks.tracking import prompts

NAME = "support"
PROMPT = prompts.context_prompt(NAME)


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> mlflow.MlflowClient:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # as in every stage: some prompt calls read the global store
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    return client


def _model_version(client: mlflow.MlflowClient, used: dict[str, str]) -> str:
    """A model version whose run trained with the prompt versions `used`."""
    model = client.create_logged_model(client.get_experiment_by_name("e").experiment_id, name="model")
    if not client.search_registered_models(f"name = '{NAME}'"):
        client.create_registered_model(NAME)
    uri = f"models:/{model.model_id}"
    version = client.create_model_version(NAME, uri, model_id=model.model_id).version
    prompts.record_on_model_version(client, NAME, version, used, uri)
    linked = client.get_logged_model(model.model_id).tags.get("mlflow.linkedPrompts", "[]")
    assert all(f'"version": "{v}"' in linked for v in used.values())  # the model's page links its prompts
    return version


def test_the_same_text_is_one_version_and_a_new_text_the_next(client) -> None:
    first = prompts.register(client, PROMPT, "Answer from these: {{sections}}", "first")
    assert prompts.register(client, PROMPT, "Answer from these: {{sections}}") == first
    second = prompts.register(client, PROMPT, "Only from these sections: {{sections}}")
    assert (first.version, second.version) == ("1", "2")
    assert client.get_prompt_version(PROMPT, "2").template == "Only from these sections: {{sections}}"


def test_a_run_records_the_version_it_used(client) -> None:
    ref = prompts.register(client, PROMPT, shipped().template)
    run = client.create_run(client.get_experiment_by_name("e").experiment_id)
    prompts.record_on_run(client, run.info.run_id, ref)
    tags = client.get_run(run.info.run_id).data.tags
    assert prompts.of_run(tags) == {PROMPT: "1"}
    assert f'"name": "{PROMPT}"' in tags["mlflow.linkedPrompts"]  # the run page's link to the prompt


def test_the_prompt_alias_follows_the_champion_and_the_server_reads_it_without_cache(client) -> None:
    one = prompts.register(client, PROMPT, "v1: {{sections}}")
    two = prompts.register(client, PROMPT, "v2: {{sections}}")
    trained_with_one = _model_version(client, {PROMPT: one.version})
    trained_with_two = _model_version(client, {PROMPT: two.version})
    without = _model_version(client, {})
    assert prompts.load(client, PROMPT, "champion") is None  # nothing promoted yet

    move_alias(client, NAME, "champion", trained_with_one)
    assert prompts.load(client, PROMPT, "champion").template == "v1: {{sections}}"
    move_alias(client, NAME, "champion", trained_with_two)
    assert prompts.load(client, PROMPT, "champion").version == "2"  # at once: no 60 s alias cache
    move_alias(client, NAME, "champion", trained_with_one)  # a rollback takes its prompt back with it
    assert prompts.load(client, PROMPT, "champion").version == "1"
    move_alias(client, NAME, "champion", without)  # a model trained without context leaves the prompt alone
    assert prompts.load(client, PROMPT, "champion").version == "1"
    assert client.get_model_version(NAME, trained_with_two).tags[prompts.RUN_TAG + PROMPT] == "2"
    shown = status(parse_params({"registry": {"model_name": NAME}}))  # what `llmops status` lists per version
    assert [v["prompts"] for v in shown.versions] == [f"{PROMPT} v1", f"{PROMPT} v2", ""]


def test_the_shipped_prompt_renders_the_sections_where_the_template_says() -> None:
    prompt = Prompt("Sections:\n{{ sections }}\nAnswer briefly.", "7")
    assert prompt.render([]) == "Sections:\n\nAnswer briefly."
    assert shipped().render([]).endswith("offer to pass the question to a colleague.")
    assert shipped().version.startswith("file-")
