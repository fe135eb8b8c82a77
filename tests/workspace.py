"""DVC workspaces in git repositories: this project's stages, flows and params, with a profile applied.

The smoke pipeline is built once per session (`smoke_pipeline` in conftest.py); a module that needs a built
workspace copies it with `copy_workspace` and never changes the original.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tasks.config.overrides import apply_overrides

REPO = Path(__file__).resolve().parents[1]


def sh(*args: str, cwd: Path, timeout: float = 1500) -> str:
    """Run a tool of this venv in the workspace; the workspace's params.yaml picks the MLflow store."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def make_workspace(ws: Path, profile: str = "smoke") -> Path:
    """A fresh git + DVC repository with the stages, code and params; the profile written into params.yaml."""
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("tasks", "flows", "infra", "params"):
        shutil.copytree(REPO / folder, ws / folder, ignore=ignore)
    for folder in ("probes", "guard", "feedback", "judge"):  # the shipped files, not what stages or snapshots wrote
        shutil.copytree(REPO / "data" / folder, ws / "data" / folder,
                        ignore=shutil.ignore_patterns("generated", "snapshot", "snapshot.dvc"))  # fmt: skip
    for name in ("dvc.yaml", "prefect.yaml", "params.yaml"):
        shutil.copy(REPO / name, ws)
    (ws / "models" / "warm_start").mkdir(parents=True)
    shutil.copy(REPO / "models" / "warm_start" / "README.md", ws / "models" / "warm_start")
    (ws / "data" / "index_train").mkdir(parents=True)
    shutil.copy(REPO / "data" / "index_train" / "README.md", ws / "data" / "index_train")
    apply_overrides(ws / "params.yaml", {"profile": profile})
    (ws / ".gitignore").write_text("mlflow.db\nmlruns/\n/data/serving/\n")  # live stores: git must never swap them
    sh("git", "init", "-q", cwd=ws)
    sh("git", "config", "user.email", "ci@example.com", cwd=ws)
    sh("git", "config", "user.name", "ci", cwd=ws)
    sh("dvc", "init", "-q", cwd=ws)
    return ws


def copy_workspace(template: Path, dest: Path) -> Path:
    """A private copy of a built workspace: git history, DVC cache and lock, outputs and its MLflow store.

    MLflow stores absolute artifact locations, so the copy's store is pointed at the copy's own artifacts.
    """
    shutil.copytree(template, dest, symlinks=True)
    db = dest / "mlflow.db"
    if db.is_file():
        _relocate(db, str(template), str(dest))
    return dest


def _relocate(db: Path, old: str, new: str) -> None:
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info('{table}')") if row[2].upper() in
                       ("TEXT", "VARCHAR") or row[2].upper().startswith("VARCHAR")]  # fmt: skip
            for column in columns:
                conn.execute(f"UPDATE '{table}' SET \"{column}\" = replace(\"{column}\", ?, ?) "
                             f"WHERE instr(\"{column}\", ?) > 0", (old, new, old))  # fmt: skip
