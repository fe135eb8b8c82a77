"""House rules that are cheap to check: the import layers, DVC params and sources that exist."""

import subprocess
import sys
from pathlib import Path

import yaml

from tasks.config.schema import Params

REPO = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    """The layers in pyproject.toml: tasks never reaches prefect, flows, serving or the CLI, even transitively;
    flows and serving stay apart; the tasks packages are layered and no siblings import each other in a cycle."""
    # its own process: import-linter reconfigures logging, which silences later tests' caplog
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [lint, "--config", "pyproject.toml", "--no-cache"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_dvc_stage_params_exist_in_params_yaml() -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        for key in stage.get("params", []):
            node = params
            for part in key.split("."):
                assert part in node, f"stage {name}: param {key} not in params.yaml"
                node = node[part]


def test_dvc_stage_sources_exist() -> None:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for stage in stages.values():
        for dep in stage.get("deps", []):
            if dep.startswith("tasks/"):
                assert (REPO / dep).exists(), dep


def test_params_yaml_sections_match_config_tree() -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    fields = {f.alias or name for name, f in Params.model_fields.items()}
    assert set(params) == fields
