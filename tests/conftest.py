"""Shared fixtures: a tiny model and the smoke pipeline, built once per test session, never downloaded.

`make test` runs two pytest-xdist workers (one per core of a CI machine), each module whole on one worker; the
session's expensive builds are shared between them through `built_once`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import mlflow
import orjson
import pytest
import torch
from filelock import FileLock

from tasks.config.schema import PrepareParams
from tasks.models.base_model import materialize
from tests.lease import LEASE_MODULE, LEASE_TEST, crash_then_wait
from tests.postgres import Postgres
from tests.scheduling import PlannedScheduling, planned_worker, queue_position

REPO = Path(__file__).resolve().parents[1]

# Prefect servers started by the tests (the harness, `prefect server`) send no telemetry: its writes race the
# flow runs' own on sqlite ("database is locked" noise in the logs).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's local mode keeps its sqlite database in PREFECT_HOME: one per test process, so two workers never share
# a database, and the tests never touch the user's own ~/.prefect.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="llmops-tests-prefect-")
# `make test` runs one worker per core: each worker, and every process it starts (ranks, stages, servers), uses
# one thread; two workers with two threads each on two cores lose time to each other.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In tests/scheduling.py's order: the planned modules (e2e, then the unit tests, ...), the other long ones."""
    items.sort(key=lambda item: queue_position(item.path.relative_to(REPO / "tests").as_posix()))


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> PlannedScheduling:
    return PlannedScheduling(config, log)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """`build(path)` once per test session, shared by pytest-xdist's workers: the first to come builds it, the
    others wait for it. Users only read what was built (modules copy the smoke workspace before changing it)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' base folders sit side by side in the session's folder
    path, done = root / name, root / f"{name}.done"
    with FileLock(root / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)  # a build that failed half way
            path.mkdir(parents=True)
            build(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2-layer, 64-wide Llama with the real SmolLM2 tokenizer and chat template."""
    return built_once(tmp_path_factory, "models", lambda root: materialize("tiny", root / "tiny")) / "tiny"


@pytest.fixture(scope="session")
def logged_tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> str:
    """The tiny chat model logged once per session (MLflow loads and generates with it while logging it).

    Returns the logged model's artifact folder: any sqlite registry of a test registers a version from it
    (`mlflow.register_model(path, name)`), so modules share one logging instead of repeating it.
    """
    from tasks.models.logged_model import log_chat_model

    def log(root: Path) -> None:
        uri = f"sqlite:///{root / 'mlflow.db'}"
        client = mlflow.MlflowClient(tracking_uri=uri)
        experiment = client.create_experiment("tiny", artifact_location=str(root / "artifacts"))
        mlflow.set_tracking_uri(uri)
        try:
            with mlflow.start_run(experiment_id=experiment):
                model_id = log_chat_model(tiny_model_dir).rsplit("/", 1)[-1]
            (root / "location").write_text(mlflow.get_logged_model(model_id).artifact_location)
        finally:
            mlflow.set_tracking_uri(None)

    return (built_once(tmp_path_factory, "logged-model", log) / "location").read_text()


@pytest.fixture(scope="session")
def guard_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The injection classifier fitted once per session on a smaller corpus than the default (4 rows per template,
    800 support messages) and with the shipped encoder's head alone (tests/unit/guard/test_build.py builds both):
    the folder `serving.guard.classifier` points at."""
    from tasks.config.schema import GuardModelParams, Params
    from tasks.guard.build import build
    from tasks.guard.corpus import write_corpus
    from tasks.models.embeddings import embed

    def fit(root: Path) -> None:
        params = Params(guard_model=GuardModelParams(per_template=4, support_rows=800, encoder_epochs=0))
        write_corpus(params.guard_model, root / "corpus.jsonl")
        build(params, root / "corpus.jsonl", root / "model", embed)

    return built_once(tmp_path_factory, "guard", fit) / "model"


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated help centre (kb/) and its LanceDB index (index/), built once per session."""
    from tasks.config.schema import IndexParams
    from tasks.data.synthesize import intent_templates
    from tasks.knowledge.articles import write_kb
    from tasks.knowledge.index import build

    def index(root: Path) -> None:
        write_kb(intent_templates(), root / "kb")
        build(root / "kb", IndexParams(uri=str(root / "index")))

    return built_once(tmp_path_factory, "kb-index", index)


@pytest.fixture(scope="session")
def smoke_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dvc repro` of the smoke profile, once per session, in a committed git + DVC workspace.

    Modules copy it (`tests.workspace.copy_workspace`) and change only their copy.
    """
    from tests.workspace import make_workspace, sh

    def repro(root: Path) -> None:
        ws = make_workspace(root / "ws")
        sh("git", "add", "-A", cwd=ws)
        sh("git", "commit", "-qm", "workspace", cwd=ws)
        sh("dvc", "repro", cwd=ws)

    return built_once(tmp_path_factory, "smoke", repro) / "ws"


@pytest.fixture(scope="session")
def killed_holder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Future]:
    """The two runs after one workspace slot of tests/lease.py, running in the background."""
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(crash_then_wait, tmp_path_factory.mktemp("lease"))


@pytest.fixture(scope="session", autouse=True)
def lease_runs_out_meanwhile(request: pytest.FixtureRequest) -> None:
    """On the worker that will check the lease (or without workers), its holders start with the session."""
    if not any(item.name == LEASE_TEST for item in request.session.items):
        return
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is None or planned_worker(LEASE_MODULE, workerinput):
        request.getfixturevalue("killed_holder")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster on loopback for this worker's session (tests/postgres.py); create a database per use."""
    from tests.postgres import binaries, cluster

    bin_dir = binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with cluster(bin_dir) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def isolated_tracking_uri():
    """`mlflow.set_tracking_uri` and `set_registry_uri` also set MLFLOW_*_URI in os.environ and a module global;
    keep one module's store (say, a test server that is gone by then) out of the next module and its subprocesses.
    The module global wins over the environment, so both are reset."""
    before = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    yield
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def prepare_params() -> PrepareParams:
    return PrepareParams(min_tokens=4, max_tokens=512, workers=1)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def chat(user: str, assistant: str, **extra) -> bytes:
    return orjson.dumps(
        {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], **extra}
    )


@pytest.fixture(scope="session")
def harness():
    """A temporary Prefect server for the flows this worker runs (request it before `emitted`)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch):
    """Events the flows emit, captured by Prefect's own asserting client (its `asserting_events_worker`)."""
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker

    worker = EventsWorker.instance(AssertingEventsClient)
    monkeypatch.setattr(EventsWorker, "instance", lambda *_: worker)
    yield worker
    worker.drain()
