from __future__ import annotations

import random
from pathlib import Path

import torch

from tasks.training import checkpoints


def make(root: Path, step: int, fp: str = "abc", finished: bool = False) -> None:
    tmp = root / checkpoints.tmp_tag(step)
    tmp.mkdir(parents=True)
    checkpoints.write_state(tmp, {"fingerprint": fp, "step": step, "finished": finished})
    checkpoints.commit(root, step, keep=2)


def test_commit_publishes_and_keeps_the_newest(tmp_path: Path):
    for step in (10, 20, 30):
        make(tmp_path, step)
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-00000020", "step-00000030"]
    assert checkpoints.latest(tmp_path) == tmp_path / "step-00000030"


def test_half_written_checkpoint_is_never_latest(tmp_path: Path):
    make(tmp_path, 10)
    (tmp_path / checkpoints.tmp_tag(20)).mkdir()
    assert checkpoints.resumable(tmp_path, "abc") == tmp_path / "step-00000010"
    checkpoints.remove_partial(tmp_path)
    assert not list(tmp_path.glob(".tmp-*"))


def test_other_settings_or_a_finished_run_start_fresh(tmp_path: Path):
    make(tmp_path, 10)
    assert checkpoints.resumable(tmp_path, "other") is None
    assert not tmp_path.exists()
    make(tmp_path, 10, finished=True)
    assert checkpoints.resumable(tmp_path, "abc") is None


def test_fingerprint_follows_settings_and_bytes(tmp_path: Path):
    data = tmp_path / "train.jsonl"
    data.write_text("a\n")
    fp = checkpoints.fingerprint({"lr": 1}, [data])
    assert fp == checkpoints.fingerprint({"lr": 1}, [data])
    assert fp != checkpoints.fingerprint({"lr": 2}, [data])
    data.write_text("b\n")
    assert fp != checkpoints.fingerprint({"lr": 1}, [data])


def test_rng_state_round_trips(tmp_path: Path):
    checkpoints.save_rng(tmp_path, rank=1)
    expected = (random.random(), torch.rand(3))
    random.random(), torch.rand(3)
    checkpoints.load_rng(tmp_path, rank=1)
    assert random.random() == expected[0]
    assert torch.equal(torch.rand(3), expected[1])
