"""The images and the compose stack, checked as files: no container runtime here can build or run them (a docker
CLI without a daemon, no compose plugin, and no registry to pull base images from). What is checked is what makes
them work together: every service healthy before its dependants start, data on named volumes, images pinned,
processes unprivileged, and the files a service mounts present."""

from __future__ import annotations

import re

import yaml

from tests.serving import REPO

INFRA = REPO / "infra"
COMPOSE = yaml.safe_load((INFRA / "compose.yaml").read_text())
STACK = {"postgres", "s3", "mlflow", "prefect", "worker", "serving", "prometheus", "grafana"}


def stages(dockerfile: str) -> dict[str, list[str]]:
    """Each stage's instructions, by stage name."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in re.sub(r"\\\n\s*", " ", dockerfile).splitlines():
        line = line.strip()
        if match := re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE):
            current = match.group(1)
            out[current] = [line]
        elif line and not line.startswith("#") and current:
            out[current].append(line)
    return out


def test_the_images_are_multi_stage_pinned_and_unprivileged() -> None:
    text = (INFRA / "docker" / "Dockerfile").read_text()
    built = stages(text)
    assert {"build", "runtime", "pipeline", "serving"} <= set(built)
    base = re.search(r"ARG PYTHON=(\S+)", text).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base)  # a patch release, not a moving tag
    for target in ("pipeline", "serving"):
        users = [line for line in built[target] if line.startswith("USER ")]
        assert users and users[-1] != "USER root", target
    assert not any("build-essential" in line for line in built["runtime"] + built["serving"])  # compilers stay behind
    assert any("torch==" in line for line in built["build"])  # the CPU wheel, pinned as the Makefile pins it
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".git", "data", "models", "mlruns"} <= set(ignored)  # no data or secrets in the context


def test_every_service_is_healthy_before_its_dependants_start() -> None:
    services = COMPOSE["services"]
    assert set(services) >= STACK
    for name in STACK:
        assert "healthcheck" in services[name], f"{name} has no health check"
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            wanted = "service_healthy" if "healthcheck" in services[dependency] else "service_completed_successfully"
            assert how["condition"] in (wanted, "service_started"), (name, dependency)
    assert "/ready" in " ".join(services["serving"]["healthcheck"]["test"])  # ready = a model is loaded


def test_state_lives_on_named_volumes_and_images_are_pinned() -> None:
    named = set(COMPOSE["volumes"])
    for name, service in COMPOSE["services"].items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (INFRA / source).exists(), f"{name} mounts {source}, which is not in infra/"
            else:
                assert source in named, f"{name}: {source} is neither a file here nor a named volume"
    assert {"postgres", "s3", "workspace"} <= named


def test_the_stores_point_at_the_compose_postgres_and_s3() -> None:
    services = COMPOSE["services"]
    command = " ".join(services["mlflow"]["command"])
    assert "postgresql+psycopg://" in command and "--artifacts-destination s3://" in command
    assert services["prefect"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg")
    assert services["serving"]["environment"]["LLMOPS_REQUEST_LOG_URL"].startswith("postgresql+psycopg://")
    created = (INFRA / "compose" / "postgres-init.sql").read_text()
    for database in ("mlflow", "prefect", "requests"):
        assert f"CREATE DATABASE {database};" in created
