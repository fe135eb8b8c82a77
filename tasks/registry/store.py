"""The MLflow model registry as the deploy gate uses it: a thin adapter, no decisions made here.

Versions carry the gate's decision in tags (`llmops.gate.*`). The `@champion` alias is the only thing that
says what serves. MLflow keeps no alias history, so every decision is also appended to the registered
model's tags as `llmops.history.<UTC time>.<id>` (JSON); tags live in the tracking store, so the history
is shared by every machine using the same server. Deploys and rollbacks are serialised by a lock made of
the one atomic operation the registry offers: creating a registered model whose name must be unique.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from tasks.config.schema import Params
from tasks.core.errors import RegistryBusyError, TrackingError
from tasks.evaluation.gate import Decision
from tasks.tracking import prompts

log = logging.getLogger("llmops.registry")

HISTORY = "llmops.history."
GATE = "llmops.gate."
APPROVED_ON = f"{GATE}approved_on"  # on a model version: "<test rows md5>|<index version>" of its last pass
APPROVED_METRICS = f"{GATE}approved_metrics"  # ...and the metrics a recheck of it compares with


@dataclass(frozen=True)
class Event:
    """One decision or alias move, as `llmops status` shows it."""

    at: str
    action: str  # promote | reject | error | rollback | recheck | recheck-failed | recheck-error
    version: str
    previous: str | None
    champion: str | None
    by: str
    reason: str
    run_id: str | None = None
    model_version: str | None = None  # a prompt's event: the model version it was decided with


def actor() -> str:
    """Who is acting: LLMOPS_ACTOR (a Prefect flow run sets it) or user@host."""
    return os.environ.get("LLMOPS_ACTOR") or f"{getpass.getuser()}@{socket.gethostname()}"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect(params: Params):
    """A client whose HTTP calls retry with backoff (MLflow's own retry, tuned from params; env wins)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from tasks.tracking.runs import tracking_uri

    retry = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": params.mlflow.http_retries,
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": params.mlflow.http_backoff_factor,
        "MLFLOW_HTTP_REQUEST_TIMEOUT": params.mlflow.http_timeout_s,
    }
    for key, value in retry.items():
        os.environ.setdefault(key, str(value))
    uri = tracking_uri(params)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@contextlib.contextmanager
def reachable(client, doing: str, state: str = "nothing was changed") -> Iterator[None]:
    """MLflow failures that are not ours to fix become one TrackingError saying what state things are in."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except (MlflowException, OSError) as err:
        first_line = str(err).strip().splitlines()[0][:400] if str(err).strip() else type(err).__name__
        retried = ""
        if client.tracking_uri.startswith(("http://", "https://")):
            retries = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "?")
            retried = f" (HTTP calls are retried {retries} times with backoff)"
        raise TrackingError(
            f"MLflow at {client.tracking_uri} failed while {doing}{retried}: {first_line}. "
            f"{state[0].upper()}{state[1:]}."
        ) from None


def _missing(err: Exception) -> bool:
    return getattr(err, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def approved_on(test_md5: str | None, index: str | None) -> str:
    """The value of APPROVED_ON: the evaluation's test rows and the index their context came from."""
    return f"{test_md5 or ''}|{index or ''}"


def approved_index(client, name: str, version: str) -> str | None:
    """The index version this model version last passed the gate on (tasks/registry/deploy.py); None where it
    passed on rows without retrieved context, or before this was recorded: the server follows the newest."""
    index = client.get_model_version(name, version).tags.get(APPROVED_ON, "").partition("|")[2]
    return None if index in ("", "none") else index


def champion(client, name: str, alias: str) -> str | None:
    """The version the alias points at, or None when there is no registered model or no alias yet."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_registered_model(name).aliases.get(alias)
    except MlflowException as err:
        if _missing(err):
            return None
        raise
    return None if version is None else str(version)


def run_of(client, name: str, version: str) -> str:
    """The run whose evaluation the gate judged (a version registered by hand falls back to its source run)."""
    mv = client.get_model_version(name, version)
    return mv.tags.get(f"{GATE}run_id") or mv.run_id


def version_of_run(client, name: str, run_id: str) -> str | None:
    """The version a run was registered as before: a run is registered once and every deploy decides on it."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.search_model_versions(f"name = '{name}' and tags.`{GATE}run_id` = '{run_id}'")
    except MlflowException as err:
        if _missing(err):
            return None
        raise
    return str(min(int(v.version) for v in found)) if found else None


def register(client, name: str, model_uri: str, run_id: str, by: str) -> str:
    """A new version of `name` from the run's logged model, tagged as pending until the gate decides."""
    import mlflow

    tags = {f"{GATE}status": "pending", f"{GATE}registered_by": by, f"{GATE}run_id": run_id}
    return str(mlflow.register_model(model_uri, name, tags=tags).version)


def record_decision(client, name: str, version: str, decision: Decision, by: str) -> None:
    tags = {
        f"{GATE}status": decision.status,
        f"{GATE}reason": decision.reason[:5000],
        f"{GATE}checks": json.dumps(decision.as_dict()["checks"], allow_nan=True),
        f"{GATE}decided_at": now(),
        f"{GATE}decided_by": by,
    }
    for check in decision.checks:
        tags[f"{GATE}check.{check.kind}.{check.metric}"] = check.describe()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def move_alias(client, name: str, alias: str, version: str | None) -> None:
    """The model's alias, and with it the alias of each prompt the version was trained with (tasks/tracking/prompts.py):
    the server renders what the champion was evaluated with."""
    if version is None:
        client.delete_registered_model_alias(name, alias)
    else:
        client.set_registered_model_alias(name, alias, version)
        prompts.follow(client, name, alias, version)


def _history_tag(event: Event) -> tuple[str, str]:
    return f"{HISTORY}{event.at}.{uuid.uuid4().hex[:8]}", json.dumps(asdict(event))


def _events(tags: dict[str, str]) -> list[Event]:
    return [Event(**json.loads(tags[k])) for k in sorted(k for k in tags if k.startswith(HISTORY))]


def append_history(client, name: str, event: Event) -> None:
    client.set_registered_model_tag(name, *_history_tag(event))


def history(client, name: str) -> list[Event]:
    """Every recorded decision, oldest first."""
    from mlflow.exceptions import MlflowException

    try:
        tags = client.get_registered_model(name).tags
    except MlflowException as err:
        if _missing(err):
            return []
        raise
    return _events(tags)


def append_prompt_history(client, prompt: str, event: Event) -> None:
    """A prompt's decisions and alias moves live on the prompt, as the model's live on the registered model."""
    client.set_prompt_tag(prompt, *_history_tag(event))


def prompt_history(client, prompt: str) -> list[Event]:
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_prompt(prompt)
    except MlflowException as err:
        if _missing(err):
            return []
        raise
    return _events(found.tags if found else {})


_VANISHED_RETRIES = 20  # holders letting go mid-insert this many times in a row is a store fault


def _lock_name(name: str) -> str:
    return f"{name}-deploy-lock"


@contextlib.contextmanager
def lock(client, name: str, wait_s: float, stale_s: float, owner: str) -> Iterator[None]:
    """Hold the registry lock of `name` for the body; waits for another holder, breaks a crashed one's lock."""
    from mlflow.exceptions import MlflowException

    lock_name, token = _lock_name(name), uuid.uuid4().hex
    deadline, vanished = time.monotonic() + wait_s, 0
    while True:
        try:
            client.create_registered_model(
                lock_name, tags={"llmops.lock.owner": owner, "llmops.lock.token": token},
                description=f"Held by {owner} while it deploys or rolls back {name}; deleted when done.",
            )  # fmt: skip
            break
        except MlflowException as err:
            # The store reports a taken name by reading its holder back; a holder that lets go between the
            # insert and that read turns "already exists" into "does not exist". Both mean: try again.
            if getattr(err, "error_code", "") != "RESOURCE_ALREADY_EXISTS" and not _missing(err):
                raise
            raced = err
        holder = _holder(client, lock_name)
        if holder is None:
            vanished += 1
            if vanished > _VANISHED_RETRIES:
                raise raced
            continue
        vanished = 0
        age = time.time() - holder["created"]
        if age > stale_s:
            log.warning("breaking the registry lock of %s held by %s for %.0f s", name, holder["owner"], age)
            _delete_lock(client, lock_name)
            continue
        if time.monotonic() > deadline:
            raise RegistryBusyError(
                f"registered model {name}: another deploy or rollback ({holder['owner']}) has held the lock for "
                f"{age:.0f} s; waited {wait_s:.0f} s (registry.lock_wait_s). If that process is gone, delete the "
                f"registered model {lock_name} or wait {stale_s:.0f} s (registry.lock_stale_s) for it to expire"
            )
        time.sleep(0.2 + random.random() * 0.3)
    try:
        yield
    finally:
        holder = _holder(client, lock_name)
        if holder is not None and holder["token"] == token:
            _delete_lock(client, lock_name)


def _holder(client, lock_name: str) -> dict[str, Any] | None:
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(lock_name)
    except MlflowException as err:
        if _missing(err):
            return None
        raise
    return {
        "owner": model.tags.get("llmops.lock.owner", "unknown"),
        "token": model.tags.get("llmops.lock.token"),
        "created": model.creation_timestamp / 1000,
    }


def _delete_lock(client, lock_name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.delete_registered_model(lock_name)
    except MlflowException as err:
        if not _missing(err):
            raise
