"""Run-time params overrides, applied the way `dvc exp run --set-param` applies them: written into params.yaml.

apply_overrides(Path("params.yaml"), {"train.epochs": 2})   # -> the validated Params, comments kept

The stages read params.yaml themselves, so an override must be in the file for DVC to see it, hash it into
dvc.lock and rerun exactly the stages that read it. `profile=NAME` writes the values of params/NAME.yaml first;
the other overrides win over them.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

from tasks.config import profiles
from tasks.config.schema import Params, load_params, parse_params
from tasks.core.errors import ConfigError
from tasks.core.files import atomic_writer

log = logging.getLogger("llmops.overrides")


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """`key.path=value` strings (the `-S` syntax) to a mapping; values are YAML, so `null`, `2`, `[a, b]` work."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {item!r}: expected KEY.PATH=VALUE, e.g. train.epochs=2")
        try:
            out[key] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: the value is not valid YAML: {err}") from None
    return out


def requested_overrides(
    epochs: int | None, learning_rate: float | None, max_steps: int | None, base_model: str | None,
    profile: str | None, set_params: list[str] | None,
) -> dict[str, Any]:  # fmt: skip
    """The form's typed fields as params keys; `set_params` (KEY=VALUE, the `-S` syntax) covers every other key."""
    typed = {"profile": profile, "train.epochs": epochs, "train.learning_rate": learning_rate,
             "train.max_steps": max_steps, "model.base": base_model}  # fmt: skip
    return {**{k: v for k, v in typed.items() if v is not None}, **parse_assignments(set_params or [])}


def _set(tree: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            node[part] = child = {}
        elif not isinstance(child, Mapping):
            raise ConfigError(f"override {dotted}: {'.'.join(parts[: i + 1])} is a value, not a section")
        node = child
    node[parts[-1]] = value


def _round_trip() -> YAML:
    """A YAML that writes the file back as a person wrote it: no re-wrapping, `null` spelled out."""
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return rt


def _rendered(path: Path, overrides: Mapping[str, Any]) -> tuple[str, Params]:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if not text:
        raise ConfigError(f"{path}: params file not found or empty (run from the repository root)")
    rt = _round_trip()
    tree = rt.load(text)
    for key, value in profiles.expand(path, overrides).items():
        _set(tree, key, value)
    buffer = io.StringIO()
    rt.dump(tree, buffer)
    new_text = buffer.getvalue()
    return new_text, parse_params(yaml.safe_load(new_text), f"{path} with overrides {dict(overrides)}")


def preview_overrides(path: Path, overrides: Mapping[str, Any]) -> Params:
    """The params a run with these overrides would see, without touching the file: checks them up front."""
    return _rendered(path, overrides)[1] if overrides else load_params(path)


def apply_overrides(path: Path, overrides: Mapping[str, Any]) -> Params:
    """Write `overrides` into params.yaml (atomically, comments kept) and return the validated result.

    Nothing is written when the result would be invalid; the error names the override's key.
    """
    if not overrides:
        return load_params(path)
    new_text, params = _rendered(path, overrides)
    with atomic_writer(path) as fh:
        fh.write(new_text.encode("utf-8"))
    return params


def _before(path: Path) -> Path:
    return path.with_name(f".{path.name}.before-overrides")


def recover(path: Path) -> bool:
    """Put back params.yaml as it was before a run that died holding overrides (the file beside it says so)."""
    saved = _before(path)
    if not saved.is_file():
        return False
    log.warning("%s still had the overrides of a run that did not finish; restored it from %s", path, saved)
    saved.replace(path)
    return True


@contextmanager
def overridden(path: Path, overrides: Mapping[str, Any]) -> Iterator[Params]:
    """params.yaml with the overrides for the duration of one run, then exactly as it was.

    Restoring keeps one operator's overrides out of the next scheduled run; the run's record is the DVC
    experiment and the MLflow run, not the workspace. The original is kept beside the file until it is back,
    so a run killed outright is undone by the next one.
    """
    recover(path)
    if not overrides:
        yield load_params(path)
        return
    saved = _before(path)
    with atomic_writer(saved) as fh:
        fh.write(path.read_bytes())
    try:
        params = apply_overrides(path, overrides)
        yield params
    finally:
        saved.replace(path)
