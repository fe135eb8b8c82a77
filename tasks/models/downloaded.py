"""A registered model version on local disk: the merged transformers folder its pyfunc `model` artifact holds."""

from __future__ import annotations

from pathlib import Path

import yaml

from tasks.core.errors import ModelSourceError


def merged_dir(model_root: Path) -> Path:
    """The merged transformers folder inside a downloaded logged model (its pyfunc `model` artifact)."""
    spec = yaml.safe_load((model_root / "MLmodel").read_text())
    try:
        relative = spec["flavors"]["python_function"]["artifacts"]["model"]["path"]
    except (KeyError, TypeError) as err:
        raise ModelSourceError(f"{model_root}: not a model this project logged (no pyfunc `model` artifact)") from err
    return model_root / relative


def download(name: str, version: str, dst: Path | None = None) -> tuple[Path, Path]:
    """models:/NAME/VERSION downloaded (into `dst`, else MLflow's temporary folder): (its root, its merged folder)."""
    import mlflow

    root = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=str(dst) if dst else None))
    return root, merged_dir(root)
