"""The images of infra/docker/Dockerfile, built and run with Podman: the serving image answers `/ready` and a chat
for the champion of a deployed smoke workspace, and the pipeline image runs the CLI.

Opt-in with LLMOPS_CONTAINERS=1: the first build installs every dependency into the image (minutes), which `make
test` cannot afford. The base image is built from Debian's packages (infra/docker/debian-python.sh) where no
registry is reachable, and the host's pip configuration (indexes and wheels on disk) is mounted into the build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tasks.core.processes import free_port
from tests.workspace import REPO, copy_workspace, sh

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("LLMOPS_CONTAINERS"), reason="opt-in: LLMOPS_CONTAINERS=1 (builds images)"),
    pytest.mark.timeout(3600),  # a first build installs every dependency
]

BASE = "localhost/debian-python:bookworm"
# What a rootful Podman needs where systemd does not manage the cgroups and raising rlimits is refused (this
# sandbox): runc on cgroupfs, and limits no higher than the host's.
CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
# pip's configuration on this machine, for the build's pip (root): its config files (global and the user's),
# the local indexes and wheels they name (the CPU torch among them), and the CA bundle its proxy needs
HOST_PIP = {path: path for path in ("/etc/pip.conf", "/etc/xdg/pip", "/opt/wheels", "/opt/pypi", "/opt/pypi-more",
                                    "/etc/ssl/certs/ca-certificates.crt")} | {
    str(Path.home() / ".config/pip"): "/root/.config/pip"}  # fmt: skip


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: apt-get install podman debootstrap runc")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def run(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", *args], env=env, capture_output=True, text=True, timeout=timeout)

    if run("image", "exists", BASE).returncode != 0:
        built = subprocess.run(["bash", str(REPO / "infra/docker/debian-python.sh"), BASE], env=env,
                               capture_output=True, text=True, timeout=1800)  # fmt: skip
        assert built.returncode == 0, built.stderr
    return run


def build(podman, target: str) -> str:
    tag = f"localhost/llmops-{target}:test"
    mounts = [arg for host, inside in HOST_PIP.items() if Path(host).exists()
              for arg in ("--volume", f"{host}:{inside}:ro")]  # fmt: skip
    result = podman("build", "--network", "host", "--file", "infra/docker/Dockerfile", "--target", target,
                    "--build-arg", f"PYTHON={BASE}", "--build-arg", "TORCH_FROM=", *mounts, "--tag", tag,
                    str(REPO))  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return tag


def test_the_pipeline_image_runs_the_cli_as_an_unprivileged_user(podman) -> None:
    image = build(podman, "pipeline")
    script = "id -u && python -c 'import torch; print(torch.__version__)' && llmops --help && dvc --version"
    result = podman("run", "--rm", image, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    uid, torch_version, rest = result.stdout.split("\n", 2)
    assert uid == "10001" and "retrain" in rest
    assert torch_version == "2.13.0+cpu"  # the CPU build the Makefile installs, not CUDA's 3 GB of libraries


def test_the_serving_image_serves_the_champion(podman, smoke_pipeline: Path, tmp_path: Path) -> None:
    image = build(podman, "serving")
    ws = copy_workspace(smoke_pipeline, tmp_path / "ws")
    assert "promoted" in sh("llmops", "deploy", cwd=ws)
    subprocess.run(["chown", "-R", "10001:10001", str(tmp_path)], check=True)  # the image's user writes its log
    port = free_port()
    name = f"llmops-serving-{port}"
    serve = ["llmops", "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = podman("run", "--detach", "--name", name, "--network", "host", "--volume", f"{ws}:{ws}",
                     "--workdir", str(ws), image, *serve)  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert podman("container", "exists", name).returncode == 0
            time.sleep(2)
        else:
            pytest.fail("not ready after 300 s:\n" + podman("logs", name).stderr[-4000:])
        body = {"model": "llmops-support", "messages": [{"role": "user", "content": "My router keeps rebooting."}],
                "max_tokens": 8}  # fmt: skip
        reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=120)
        assert reply.status_code == 200, reply.text
        assert reply.headers["x-model-version"] == "1" and reply.json()["choices"][0]["message"]["content"]
        assert podman("inspect", "--format", "{{.Config.User}}", name).stdout.strip() == "llmops"
    finally:
        podman("rm", "--force", name)
