"""A fresh DVC workspace in a git repository: this project's stages, flows and params (smoke profile)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def sh(*args: str, cwd: Path, timeout: float = 1500) -> str:
    """Run a tool of this venv in the workspace; the workspace's params.yaml picks the MLflow store."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def make_workspace(ws: Path, profile: str = "smoke") -> Path:
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("tasks", "flows", "infra"):
        shutil.copytree(REPO / folder, ws / folder, ignore=ignore)
    for folder in ("probes", "guard"):
        shutil.copytree(REPO / "data" / folder, ws / "data" / folder)
    shutil.copy(REPO / "dvc.yaml", ws)
    shutil.copy(REPO / "prefect.yaml", ws)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["profile"] = profile
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "init", "-q", cwd=ws)
    sh("git", "config", "user.email", "ci@example.com", cwd=ws)
    sh("git", "config", "user.name", "ci", cwd=ws)
    sh("dvc", "init", "-q", cwd=ws)
    return ws
