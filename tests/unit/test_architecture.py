"""House rules that are cheap to check: logic free of the orchestrator, DVC params that exist."""

import ast
from pathlib import Path

import yaml

from tasks.config import Params

REPO = Path(__file__).resolve().parents[2]


def test_tasks_never_import_prefect() -> None:
    for path in (REPO / "tasks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            assert not any(n == "prefect" or n.startswith("prefect.") for n in names), path


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
    assert set(params) - {"profiles"} == fields
