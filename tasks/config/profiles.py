"""Profiles: variants of params.yaml kept as files (params/<name>.yaml), merged in before DVC reads the params.

A profile is applied by writing its values into params.yaml, as any override is, so every stage lists only
the keys it reads and a profile switch or an override under a profile reruns exactly the stages that read
what changed. `profile:` in params.yaml records which one was applied last.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.config.yaml_file import read_yaml
from tasks.core.errors import ConfigError

DEFAULT = "default"


def profiles_dir(params_path: Path) -> Path:
    return params_path.parent / "params"


def known_profiles(params_path: Path) -> list[str]:
    return [DEFAULT, *sorted(p.stem for p in profiles_dir(params_path).glob("*.yaml"))]


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"lr": 1}} -> {"train.lr": 1}; lists stay whole."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def profile_values(params_path: Path, name: str) -> dict[str, Any]:
    """The dotted keys a profile sets; `default` sets none (params.yaml as committed is the default)."""
    if name == DEFAULT:
        return {}
    path = profiles_dir(params_path) / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"profile: unknown profile {name!r} (known: {', '.join(known_profiles(params_path))})")
    tree = read_yaml(path) or {}
    if not isinstance(tree, Mapping):
        raise ConfigError(f"{path}: expected a mapping of params sections")
    return flatten(tree)


def expand(params_path: Path, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides with `profile` replaced by that profile's values; an explicit override beats the profile's."""
    name = overrides.get("profile")
    if name is None:
        return dict(overrides)
    return {**profile_values(params_path, str(name)), **overrides}
