"""Continue from @champion's LoRA adapter instead of from zero, when it fits.

The registry is not a file DVC can read, so (like the feedback snapshot) the retrain flow, or `llmops warm-start`
by hand, first copies the champion's adapter into `models/warm_start/` with a `source.json` naming where it came
from; the train stage depends on that folder. At train time the launcher checks that the adapter fits: the same
base model bytes (the md5 DVC recorded for `models/base`) and the same LoRA shape. A fitting adapter becomes the
starting point and the run takes `train.warm_start_steps`; anything else trains from zero and says why.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tasks.config.schema import LoraParams, Params
from tasks.core.files import write_json

log = logging.getLogger("llmops.warm_start")

WARM_START = Path("models/warm_start")
SOURCE = "source.json"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
BASE_TAG = "dvc.models/base"


@dataclass(frozen=True)
class WarmStart:
    adapter: Path
    version: int
    run_id: str

    def describe(self) -> str:
        return f"v{self.version} (run {self.run_id[:8]})"


def _clear(out: Path) -> None:
    """Everything but the folder's README, which git keeps so DVC always finds the dependency."""
    out.mkdir(parents=True, exist_ok=True)
    for path in out.iterdir():
        if path.name != "README.md":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def export(params: Params, out: Path = WARM_START) -> dict[str, Any]:
    """Copy @champion's adapter (from its training run) into `out`; empty it when there is nothing to start from."""
    import mlflow
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from tasks.tracking.runs import tracking_uri

    mlflow.set_tracking_uri(tracking_uri(params))
    name, alias = params.registry.model_name, params.registry.alias
    source: dict[str, Any] = {"model": name, "alias": alias}
    if not params.train.warm_start:
        _clear(out)
        return {**source, "exported": False, "why": "train.warm_start is off"}
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        _clear(out)
        return {**source, "exported": False, "why": f"no {name}@{alias} yet"}
    run = client.get_run(version.run_id)
    with tempfile.TemporaryDirectory(prefix="llmops-warm-") as tmp:
        try:
            local = Path(download_artifacts(run_id=version.run_id, artifact_path="adapter", dst_path=tmp))
        except (MlflowException, OSError):
            local = Path(tmp) / "missing"
        if not all((local / f).is_file() for f in ADAPTER_FILES):
            _clear(out)
            return {**source, "exported": False, "why": f"v{version.version}'s run {run.info.run_id} logged no adapter"}
        _clear(out)
        for f in ADAPTER_FILES:
            shutil.copy2(local / f, out / f)
    source |= {"version": int(version.version), "run_id": run.info.run_id, "base_md5": run.data.tags.get(BASE_TAG)}
    write_json(out / SOURCE, source)
    return {**source, "exported": True, "why": f"v{version.version}'s adapter -> {out}"}


def resolve(warm_dir: Path | None, lora: LoraParams, base_md5: str | None) -> tuple[WarmStart | None, str]:
    """The adapter to start from, or None and why not."""
    if warm_dir is None or not (warm_dir / SOURCE).is_file():
        return None, "no champion adapter exported (llmops warm-start)"
    source = orjson.loads((warm_dir / SOURCE).read_bytes())
    if not all((warm_dir / f).is_file() for f in ADAPTER_FILES):
        return None, f"{warm_dir} lacks {' or '.join(ADAPTER_FILES)}; rerun `llmops warm-start`"
    if not base_md5 or source.get("base_md5") != base_md5:
        return None, f"v{source.get('version')} was trained on other base model bytes"
    config = orjson.loads((warm_dir / "adapter_config.json").read_bytes())
    targets = config.get("target_modules")
    shape = (config.get("r"), config.get("lora_alpha"))
    if shape != (lora.r, lora.alpha) or not _same_targets(targets, lora.target_modules):
        return None, f"v{source['version']}'s LoRA (r={shape[0]}, alpha={shape[1]}, {targets}) differs from params.lora"
    return WarmStart(warm_dir, int(source["version"]), str(source["run_id"])), f"from @champion v{source['version']}"


def _same_targets(saved: Any, wanted: list[str]) -> bool:
    """peft saves all-linear expanded into module names, as a list (order not kept) or a string."""
    if wanted == ["all-linear"]:
        return True  # resolved against the same base bytes (checked first), so the same modules
    saved_set = {saved} if isinstance(saved, str) else set(saved or [])
    return saved_set == set(wanted)


def warm_params(params: Params, start: WarmStart) -> Params:
    """The run's effective params: `warm_start_steps` steps, and batches drawn with another seed so the run does
    not begin with the batches the champion's run began with."""
    steps = params.train.warm_start_steps or params.train.max_steps
    train = params.train.model_copy(update={"max_steps": steps, "seed": params.train.seed + start.version})
    return params.model_copy(update={"train": train})
