"""Reading a params file: a YAML error becomes one ConfigError line naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tasks.core.errors import ConfigError


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
