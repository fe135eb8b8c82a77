from pathlib import Path

import pytest
import yaml

from tasks.config import Params, load_params, parse_params
from tasks.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _shipped() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


@pytest.mark.parametrize("profile", ["default", *(_shipped().get("profiles") or {})])
def test_every_shipped_profile_is_valid(profile: str) -> None:
    params = parse_params({**_shipped(), "profile": profile})
    assert params.profile == profile


def test_smoke_profile_overlays_default() -> None:
    params = parse_params({**_shipped(), "profile": "smoke"})
    assert params.model.base == "tiny"
    assert params.generate.n_records < Params().generate.n_records
    assert params.split.seed == _shipped()["split"]["seed"]  # untouched keys keep the default profile's value


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"prepare\.near_dup_treshold: unknown key"):
        parse_params({"prepare": {"near_dup_treshold": 0.8}})


def test_wrong_type_is_named() -> None:
    with pytest.raises(ConfigError, match=r"split\.seed: .*integer"):
        parse_params({"split": {"seed": "abc"}})


def test_out_of_range_is_named() -> None:
    with pytest.raises(ConfigError, match=r"prepare\.near_dup_threshold: .*less than 1"):
        parse_params({"prepare": {"near_dup_threshold": 1.5}})


def test_cross_field_rule() -> None:
    with pytest.raises(ConfigError, match=r"min_tokens .* must be below max_tokens"):
        parse_params({"prepare": {"min_tokens": 100, "max_tokens": 50}})


def test_unknown_profile() -> None:
    with pytest.raises(ConfigError, match="profile: unknown profile 'fast'"):
        parse_params({"profile": "fast", "profiles": {"smoke": {}}})


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
