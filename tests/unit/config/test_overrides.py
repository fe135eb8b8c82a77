from pathlib import Path

import pytest
import yaml

from tasks.config.overrides import apply_overrides, overridden, parse_assignments, preview_overrides
from tasks.config.schema import load_params
from tasks.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text((REPO / "params.yaml").read_text())
    return path


def test_assignments_parse_values_as_yaml() -> None:
    got = parse_assignments(["train.epochs=2", "train.max_steps=null", "lora.target_modules=[q_proj, v_proj]"])
    assert got == {"train.epochs": 2, "train.max_steps": None, "lora.target_modules": ["q_proj", "v_proj"]}
    for bad in ("train.epochs", "=2", "train..epochs=2"):
        with pytest.raises(ConfigError, match=r"expected KEY\.PATH=VALUE"):
            parse_assignments([bad])


def test_a_profile_is_written_as_plain_top_level_values(params_file: Path) -> None:
    (params_file.parent / "params").mkdir()
    (params_file.parent / "params" / "smoke.yaml").write_text((REPO / "params" / "smoke.yaml").read_text())
    params = apply_overrides(params_file, {"profile": "smoke", "gate.min.rougeL": 0.2})
    written = yaml.safe_load(params_file.read_text())
    assert "profiles" not in written and written["profile"] == "smoke"
    assert written["model"]["base"] == "tiny" and written["train"]["max_steps"] == 8
    assert written["gate"]["min"]["rougeL"] == 0.2  # an explicit override beats the profile's value
    assert params.train.max_steps == 8 and params.split.seed == 13  # keys the profile leaves keep the file's
    assert "# absolute floors" in params_file.read_text()
    with pytest.raises(ConfigError, match=r"unknown profile 'fast' \(known: default, smoke\)"):
        apply_overrides(params_file, {"profile": "fast"})


def test_apply_keeps_comments_and_validates(params_file: Path) -> None:
    params = apply_overrides(params_file, {"train.epochs": 3, "gate.min.rougeL": 0.5})
    assert params.train.epochs == 3 and params.gate.min["rougeL"] == 0.5
    text = params_file.read_text()
    assert "# absolute floors" in text and "epochs: 3" in text
    assert load_params(params_file).train.epochs == 3


def test_a_profile_override_beats_the_profile_values(params_file: Path) -> None:
    (params_file.parent / "params").mkdir()
    (params_file.parent / "params" / "smoke.yaml").write_text((REPO / "params" / "smoke.yaml").read_text())
    params = apply_overrides(params_file, {"profile": "smoke", "train.max_steps": 3})
    assert params.profile == "smoke" and params.train.max_steps == 3  # the smoke file alone says 8


def test_invalid_override_names_the_key_and_writes_nothing(params_file: Path) -> None:
    before = params_file.read_text()
    with pytest.raises(ConfigError, match=r"train\.epoch: unknown key"):
        apply_overrides(params_file, {"train.epoch": 2})
    with pytest.raises(ConfigError, match=r"train\.learning_rate"):
        apply_overrides(params_file, {"train.learning_rate": 5})
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_overrides(params_file, {"train.epochs.x": 1})
    with pytest.raises(ConfigError, match=r"train\.epoch: unknown key"):
        preview_overrides(params_file, {"train.epoch": 2})
    assert preview_overrides(params_file, {"train.epochs": 5}).train.epochs == 5
    assert params_file.read_text() == before


def test_overridden_restores_the_file_even_on_failure(params_file: Path) -> None:
    before = params_file.read_bytes()
    with pytest.raises(RuntimeError), overridden(params_file, {"train.epochs": 4}) as params:
        assert params.train.epochs == 4
        assert yaml.safe_load(params_file.read_text())["train"]["epochs"] == 4
        raise RuntimeError("stage failed")
    assert params_file.read_bytes() == before


def test_a_run_killed_with_overrides_is_undone_by_the_next(params_file: Path) -> None:
    before = params_file.read_bytes()
    params_file.with_name(".params.yaml.before-overrides").write_bytes(before)  # what overridden() keeps aside
    apply_overrides(params_file, {"train.epochs": 4})  # ... and then the run was killed
    with overridden(params_file, {}) as params:
        assert params.train.epochs == 1
    assert params_file.read_bytes() == before
    assert [p.name for p in params_file.parent.iterdir()] == ["params.yaml"]
