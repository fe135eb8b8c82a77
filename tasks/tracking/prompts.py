"""Prompt versions in the MLflow Prompt Registry: registered by the runs that use them, linked to those runs and
to the model versions they produced, followed by an alias that a deploy moves with the model's.

A version carries the hash of its text (tag llmops.template_sha256), so registering the same text again returns
the version that already holds it: a rerun of training makes no new prompt version.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("llmops.prompts")

SHA_TAG = "llmops.template_sha256"
RUN_TAG = "llmops.prompt."  # + prompt name: the version a run (and the model version it made) used


@dataclass(frozen=True)
class PromptRef:
    name: str
    version: str
    template: str
    tags: dict[str, str] = field(default_factory=dict, compare=False)  # the version's tags when it was read


def context_prompt(model_name: str) -> str:
    """The registry name of a model's context prompt (the RAG template the server renders retrieved sections with)."""
    return f"{model_name}-context"


def _sha(template: str) -> str:
    return hashlib.sha256(template.encode()).hexdigest()


def register(client, name: str, template: str, description: str = "") -> PromptRef:
    """The version of `name` holding `template`, registered as a new one if no version holds it yet."""
    from mlflow.exceptions import MlflowException

    sha, token = _sha(template), None
    try:
        while True:
            page = client.search_prompt_versions(name, page_token=token)
            for version in page:
                if version.tags.get(SHA_TAG) == sha:
                    return PromptRef(name, str(version.version), version.template)
            if not (token := page.token):
                break
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":  # no such prompt yet: its first version follows
            raise
    created = client.register_prompt(name, template, commit_message=description or None, tags={SHA_TAG: sha})
    log.info("registered prompt %s version %s", name, created.version)
    return PromptRef(name, str(created.version), template)


def record_on_run(client, run_id: str, ref: PromptRef) -> None:
    """The run used this version: MLflow's prompt link (shown on the run and the prompt) and a tag to read back."""
    client.link_prompt_version_to_run(run_id, client.get_prompt_version(ref.name, ref.version))
    client.set_tag(run_id, RUN_TAG + ref.name, ref.version)


def of_run(tags: dict[str, str]) -> dict[str, str]:
    """{prompt name: version} a run or model version recorded."""
    return {key.removeprefix(RUN_TAG): value for key, value in tags.items() if key.startswith(RUN_TAG)}


def record_on_model_version(client, model_name: str, version: str, used: dict[str, str], model_uri: str) -> None:
    """A new model version keeps the prompt versions its run used ({name: version}, `of_run`): as tags, and
    linked to its logged model."""
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/m-") else None
    for prompt, prompt_version in used.items():
        client.set_model_version_tag(model_name, version, RUN_TAG + prompt, prompt_version)
        if model_id:
            client.link_prompt_version_to_model(prompt, prompt_version, model_id)


def follow(client, model_name: str, alias: str, version: str | None) -> dict[str, str]:
    """Point each prompt the model version used at `alias` to the version it used, so the server renders what the
    model was evaluated with; {prompt: version} moved."""
    if version is None:
        return {}
    moved = of_run(client.get_model_version(model_name, version).tags)
    for prompt, prompt_version in moved.items():
        client.set_prompt_alias(prompt, alias, int(prompt_version))
    return moved


def load(client, name: str, alias: str) -> PromptRef | None:
    """The version `alias` names now (no MLflow alias cache: the server polls at its own pace); None where the
    prompt or the alias does not exist."""
    return _read(name, lambda: client.get_prompt_version_by_alias(name, alias))


def get(client, name: str, version: str) -> PromptRef | None:
    """One version of a prompt; None where the prompt or the version does not exist."""
    return _read(name, lambda: client.get_prompt_version(name, version))


def _read(name: str, fetch: Callable[[], Any]) -> PromptRef | None:
    from mlflow.exceptions import MlflowException

    try:
        found = fetch()
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):  # no prompt, version or alias
            return None
        raise
    return None if found is None else PromptRef(name, str(found.version), found.template, dict(found.tags or {}))
