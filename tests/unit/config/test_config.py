import shutil
from pathlib import Path

import pytest
import yaml

from tasks.config.overrides import apply_overrides
from tasks.config.profiles import profile_values
from tasks.config.schema import Params, load_params, parse_params
from tasks.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def _shipped() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


@pytest.mark.parametrize("profile", ["default", *sorted(p.stem for p in (REPO / "params").glob("*.yaml"))])
def test_every_shipped_profile_is_valid(profile: str, tmp_path: Path) -> None:
    """Applied the way `llmops profile` applies it, to a copy of the shipped params."""
    shutil.copy(REPO / "params.yaml", tmp_path)
    shutil.copytree(REPO / "params", tmp_path / "params")
    params = apply_overrides(tmp_path / "params.yaml", {"profile": profile})
    assert params.profile == profile
    assert load_params(tmp_path / "params.yaml") == params


def test_smoke_profile_sets_only_its_own_keys() -> None:
    smoke = profile_values(REPO / "params.yaml", "smoke")
    assert smoke["model.base"] == "tiny"
    assert smoke["generate.n_records"] < _shipped()["generate"]["n_records"]
    assert not any(key.startswith("lora.") for key in smoke)  # untouched keys keep the default's value


def test_schema_defaults_are_the_shipped_params() -> None:
    """params.yaml is the one source of values: a default in the schema may only repeat it."""
    assert Params().model_dump(by_alias=True) == load_params(REPO / "params.yaml").model_dump(by_alias=True)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"prepare\.near_dup_treshold: unknown key"):
        parse_params({"prepare": {"near_dup_treshold": 0.8}})
    with pytest.raises(ConfigError, match=r"evaluate\.intent_reference_rows: moved to split\.intent_reference_rows"):
        parse_params({"evaluate": {"intent_reference_rows": 8}})


def test_wrong_type_is_named() -> None:
    with pytest.raises(ConfigError, match=r"split\.seed: .*integer"):
        parse_params({"split": {"seed": "abc"}})


def test_out_of_range_is_named() -> None:
    with pytest.raises(ConfigError, match=r"prepare\.near_dup_threshold: .*less than 1"):
        parse_params({"prepare": {"near_dup_threshold": 1.5}})


def test_cross_field_rule() -> None:
    with pytest.raises(ConfigError, match=r"min_tokens .* must be below max_tokens"):
        parse_params({"prepare": {"min_tokens": 100, "max_tokens": 50}})


def test_unknown_profile_and_the_old_profiles_section() -> None:
    with pytest.raises(ConfigError, match="profile: unknown profile 'fast'"):
        profile_values(REPO / "params.yaml", "fast")
    with pytest.raises(ConfigError, match=r"profiles: moved to params/<name>\.yaml.*llmops profile NAME"):
        parse_params({"profile": "smoke", "profiles": {"smoke": {}}})


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("prepare: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_params_are_frozen() -> None:
    params = Params()
    with pytest.raises(ValueError):
        params.split.seed = 3  # type: ignore[misc]


def test_the_config_reference_is_generated_from_the_schema() -> None:
    from tasks.config.reference import render

    assert (REPO / "docs" / "config-reference.md").read_text() == render(), "run `make docs`"
