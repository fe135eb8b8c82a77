"""Warm starts: @champion's adapter exported from a real sqlite registry, checked for fit, and loaded into LoRA."""

from __future__ import annotations

from pathlib import Path

import mlflow
import orjson
import pytest
import torch

from tasks.config.schema import LoraParams, parse_params
from tasks.core.errors import ConfigError
from tasks.training import warm_start
from tasks.training.model_setup import load_model


def _adapter(tiny_model_dir: Path, out: Path, params=None) -> dict[str, torch.Tensor]:
    """A trained-looking adapter for the tiny model: LoRA B weights no longer zero."""
    from peft import get_peft_model_state_dict

    model = load_model(params or parse_params({}), tiny_model_dir)
    torch.manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.normal_(0, 0.02)
    model.save_pretrained(out)
    return get_peft_model_state_dict(model)


def _source(folder: Path, base_md5: str = "abc", version: int = 3) -> None:
    folder.joinpath(warm_start.SOURCE).write_bytes(
        orjson.dumps({"model": "m", "alias": "champion", "version": version, "run_id": "r" * 32, "base_md5": base_md5})
    )


def test_a_fitting_adapter_is_loaded_as_the_starting_point(tiny_model_dir: Path, tmp_path: Path):
    saved = _adapter(tiny_model_dir, tmp_path)
    _source(tmp_path)
    start, why = warm_start.resolve(tmp_path, LoraParams(), "abc")
    assert start is not None and why == "from @champion v3"
    from peft import get_peft_model_state_dict

    loaded = get_peft_model_state_dict(load_model(parse_params({}), tiny_model_dir, start.adapter))
    assert loaded.keys() == saved.keys()
    assert all(torch.equal(loaded[k], saved[k]) for k in saved)
    assert any(v.abs().sum() > 0 for k, v in loaded.items() if "lora_B" in k)


def test_what_does_not_fit_trains_from_zero_and_says_why(tiny_model_dir: Path, tmp_path: Path):
    nothing = (None, "no champion adapter exported (llmops warm-start)")
    assert warm_start.resolve(tmp_path, LoraParams(), "abc") == nothing
    assert warm_start.resolve(None, LoraParams(), "abc")[0] is None
    _source(tmp_path)  # a source.json whose adapter files are gone
    assert "rerun `llmops warm-start`" in warm_start.resolve(tmp_path, LoraParams(), "abc")[1]
    _adapter(tiny_model_dir, tmp_path)
    _source(tmp_path, base_md5="old")
    assert warm_start.resolve(tmp_path, LoraParams(), "abc") == (None, "v3 was trained on other base model bytes")
    assert warm_start.resolve(tmp_path, LoraParams(), None)[0] is None  # no dvc.lock: the base is unknown
    _source(tmp_path)
    start, why = warm_start.resolve(tmp_path, LoraParams(r=16), "abc")
    assert start is None and why.startswith("v3's LoRA (r=8, alpha=16")


def test_an_adapter_of_other_modules_is_refused_by_name(tiny_model_dir: Path, tmp_path: Path):
    _adapter(tiny_model_dir, tmp_path, parse_params({"lora": {"target_modules": ["q_proj", "k_proj"]}}))
    _source(tmp_path)
    start, why = warm_start.resolve(tmp_path, LoraParams(target_modules=["v_proj"]), "abc")
    assert start is None and "differs from params.lora" in why
    with pytest.raises(ConfigError, match="adapter weights fit no LoRA module"):
        load_model(parse_params({"lora": {"target_modules": ["v_proj"]}}), tiny_model_dir, tmp_path)


def test_a_warm_run_takes_its_own_steps_and_other_batches():
    params = parse_params({"train": {"max_steps": 30, "warm_start_steps": 10, "seed": 42}})
    warm = warm_start.warm_params(params, warm_start.WarmStart(Path("x"), 2, "r"))
    assert (warm.train.max_steps, warm.train.seed) == (10, 44)
    assert params.train.max_steps == 30  # the params parsed once stay as they were
    unset = parse_params({"train": {"max_steps": 30, "warm_start_steps": None}})
    assert warm_start.warm_params(unset, warm_start.WarmStart(Path("x"), 1, "r")).train.max_steps == 30


def test_export_copies_the_champions_adapter_from_a_sqlite_registry(tiny_model_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    params = parse_params({"registry": {"model_name": "support"}})
    out = tmp_path / "warm"
    out.mkdir()
    (out / "README.md").write_text("kept")
    (out / "stale.txt").write_text("from an earlier export")

    said = warm_start.export(params, out)
    assert (said["exported"], said["why"]) == (False, "no support@champion yet")
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]

    _adapter(tiny_model_dir, tmp_path / "adapter")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(experiment, tags={warm_start.BASE_TAG: "abc"})
    client.log_artifacts(run.info.run_id, str(tmp_path / "adapter"), "adapter")
    client.create_registered_model("support")
    version = client.create_model_version("support", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("support", "champion", version.version)

    said = warm_start.export(params, out)
    assert said["exported"] and said["version"] == 1 and said["run_id"] == run.info.run_id
    assert sorted(p.name for p in out.iterdir()) == ["README.md", *warm_start.ADAPTER_FILES, "source.json"]
    start, _ = warm_start.resolve(out, LoraParams(), "abc")
    assert start is not None and start.describe() == f"v1 (run {run.info.run_id[:8]})"

    off = parse_params({"registry": {"model_name": "support"}, "train": {"warm_start": False}})
    assert warm_start.export(off, out)["why"] == "train.warm_start is off"
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
