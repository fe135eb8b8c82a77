from __future__ import annotations

from pathlib import Path

from tasks.config.profiles import flatten
from tasks.config.schema import parse_params
from tasks.tracking.runs import dvc_lock_tags, tracking_uri


def test_flatten_nests_with_dots_and_keeps_lists():
    assert flatten({"train": {"lr": 1, "opt": {"b": 2}}, "lora": {"t": ["q", "v"]}}) == {
        "train.lr": 1,
        "train.opt.b": 2,
        "lora.t": ["q", "v"],
    }


def test_environment_tracking_uri_wins(monkeypatch):
    params = parse_params({"mlflow": {"tracking_uri": "sqlite:///x.db"}})
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(params) == "sqlite:///x.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri(params) == "http://127.0.0.1:5000"


def test_dvc_lock_hashes_of_the_inputs(tmp_path: Path):
    lock = tmp_path / "dvc.lock"
    lock.write_text(
        "schema: '2.0'\nstages:\n  split:\n    cmd: x\n    outs:\n"
        "    - path: data/split/train.jsonl\n      md5: aaa\n    - path: data/split/test.jsonl\n      md5: bbb\n"
        "  base_model:\n    cmd: y\n    outs:\n    - path: models/base\n      md5: ccc.dir\n"
    )
    tags = dvc_lock_tags([Path("data/split/train.jsonl"), Path("models/base")], lock)
    assert tags == {"dvc.data/split/train.jsonl": "aaa", "dvc.models/base": "ccc.dir"}
    assert dvc_lock_tags([Path("x")], tmp_path / "missing.lock") == {}
