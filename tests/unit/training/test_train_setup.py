"""Decisions the launcher makes before any rank starts: config, world size, commands, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tasks.config.schema import parse_params
from tasks.core.errors import ConfigError
from tasks.training import model_setup, recipe
from tasks.training.launcher import Rendezvous, launch_command, root_cause, threads_per_rank, world_size


def params(**train):
    return parse_params({"train": train})


def test_deepspeed_config_fills_auto_from_params():
    cfg = model_setup.deepspeed_config(params(micro_batch_size=3, grad_accum_steps=5, max_grad_norm=0.5), "fp32")
    assert cfg["train_micro_batch_size_per_gpu"] == 3
    assert cfg["gradient_accumulation_steps"] == 5
    assert cfg["gradient_clipping"] == 0.5
    assert cfg["bf16"]["enabled"] is False and cfg["fp16"]["enabled"] is False
    assert cfg["zero_optimization"]["stage"] == 2
    assert model_setup.deepspeed_config(params(), "bf16")["bf16"]["enabled"] is True


def test_every_shipped_deepspeed_config_resolves():
    names = sorted(p.stem for p in model_setup.DEEPSPEED_CONFIGS.glob("*.json"))
    assert names == ["zero2", "zero3_offload"]
    for name in names:
        assert "auto" not in json.dumps(model_setup.deepspeed_config(params(deepspeed=name), "fp32"))


def test_unknown_deepspeed_config_lists_known_ones():
    with pytest.raises(ConfigError, match=r"train.deepspeed: .*zero4.json \(known: zero2, zero3_offload\)"):
        model_setup.deepspeed_config(params(deepspeed="zero4"), "fp32")


def test_custom_config_with_unfillable_auto_or_own_optimizer_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(model_setup, "DEEPSPEED_CONFIGS", tmp_path)
    (tmp_path / "mine.json").write_text(json.dumps({"zero_optimization": {"stage": 2, "reduce_bucket_size": "auto"}}))
    with pytest.raises(ConfigError, match=r"zero_optimization.reduce_bucket_size"):
        model_setup.deepspeed_config(params(deepspeed="mine"), "fp32")
    (tmp_path / "opt.json").write_text(json.dumps({"optimizer": {"type": "Adam"}}))
    with pytest.raises(ConfigError, match=r"remove 'optimizer'"):
        model_setup.deepspeed_config(params(deepspeed="opt"), "fp32")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match=r"bad.json: not valid JSON"):
        model_setup.deepspeed_config(params(deepspeed="bad"), "fp32")


def test_lora_targets_are_checked_against_the_model(tiny_model_dir: Path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model_setup.lora_targets(model, ["q_proj", "v_proj"], tiny_model_dir) == ["q_proj", "v_proj"]
    assert model_setup.lora_targets(model, ["all-linear"], tiny_model_dir) == "all-linear"
    with pytest.raises(ConfigError, match=r"lora.target_modules: qproj match no linear layer .*known: .*q_proj"):
        model_setup.lora_targets(model, ["qproj"], tiny_model_dir)


def test_the_launchers_check_reads_the_same_linear_layers_from_the_weight_files(tiny_model_dir: Path, tmp_path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    linear = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    assert model_setup.linear_layer_names(tiny_model_dir, model.config.vocab_size) == linear - {"lm_head"}
    model_setup.check_lora_targets(["q_proj", "v_proj"], tiny_model_dir)
    with pytest.raises(ConfigError, match=r"attn_out match no linear layer .*\(LlamaForCausalLM\); known: .*q_proj"):
        model_setup.check_lora_targets(["q_proj", "attn_out"], tiny_model_dir)
    (tmp_path / "config.json").write_text("{}")  # weights that are not safetensors: the ranks check
    assert model_setup.linear_layer_names(tmp_path, None) is None
    model_setup.check_lora_targets(["attn_out"], tmp_path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_gpu_only_options_are_refused_on_cpu():
    with pytest.raises(ConfigError, match=r"train.qlora: 4-bit QLoRA needs a CUDA GPU"):
        model_setup.check_qlora()
    with pytest.raises(ConfigError, match=r"train.precision: bf16 needs a CUDA GPU"):
        model_setup.resolve_precision("bf16")
    assert model_setup.resolve_precision("auto") == "fp32"


def test_world_size(monkeypatch: pytest.MonkeyPatch):
    assert world_size("auto", 0) == 1
    assert world_size("auto", 8) == 8
    assert world_size(2, 0) == 2
    with pytest.raises(ConfigError, match=r"4 ranks asked for but this node has 2 GPUs"):
        world_size(4, 2)
    with pytest.raises(ConfigError, match=r"world_size"):
        params(world_size=0)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads_per_rank(2, 2) == 1 and threads_per_rank(1, 16) == 16 and threads_per_rank(4, 2) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's (or CI's) word wins
    assert threads_per_rank(1, 16) == 3


def test_launch_command_single_node_and_hostfile(tmp_path: Path):
    cmd = launch_command(["--config", "p.json"], 2, None, 29500)
    assert cmd[1:5] == ["-m", "torch.distributed.run", "--nproc_per_node", "2"]
    assert cmd[-4:] == ["-m", "tasks.training.recipe", "--config", "p.json"]
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("node1 slots=8\n")
    cmd = launch_command(["--config", "p.json"], 2, str(hostfile), 29500)
    assert cmd[1:5] == ["-m", "deepspeed.launcher.runner", "--hostfile", str(hostfile)]
    assert "--module" in cmd and cmd[-3:] == ["tasks.training.recipe", "--config", "p.json"]
    with pytest.raises(ConfigError, match=r"train.hostfile: .*missing not found"):
        launch_command([], 2, str(tmp_path / "missing"), 29500)


def test_every_node_of_a_multi_node_run_meets_at_the_port_after_the_endpoints():
    first = launch_command(["--config", "p.json"], 1, None, 0, Rendezvous(2, "10.0.0.1:29400", "abc", is_host=True))
    joining = launch_command(["--config", "p.json"], 1, None, 0, Rendezvous(2, "10.0.0.1:29400", "abc", False))
    for cmd, host in ((first, "true"), (joining, "false")):
        flags = dict(zip(cmd[3:-4:2], cmd[4:-4:2], strict=True))
        assert flags == {
            "--nproc_per_node": "1",
            "--nnodes": "2",
            "--rdzv_backend": "c10d",
            "--rdzv_id": "abc",
            "--rdzv_endpoint": "10.0.0.1:29401",
            "--rdzv_conf": f"is_host={host}",
            "--max_restarts": "0",
        }
    with pytest.raises(ConfigError, match=r"train: .*nodes: 2 needs rdzv_endpoint"):
        params(nodes=2)
    with pytest.raises(ConfigError, match=r"train.rdzv_endpoint"):
        params(nodes=2, rdzv_endpoint="10.0.0.1")
    with pytest.raises(ConfigError, match=r"set one of them"):
        params(nodes=2, rdzv_endpoint="node0:29400", hostfile="infra/deepspeed/hostfile")


def test_root_cause_is_the_first_rank_to_fail(tmp_path: Path):
    assert root_cause(tmp_path, 2) is None
    for rank, t, msg in [(0, 2.0, "RuntimeError: connection reset by peer"), (1, 1.0, "ValueError: bad batch")]:
        (tmp_path / f"rank-{rank}.json").write_text(
            json.dumps({"rank": rank, "time": t, "message": msg, "traceback": ""})
        )
    assert root_cause(tmp_path, 2) == "rank 1 failed: ValueError: bad batch"
    (tmp_path / "rank-0.json").write_text(
        json.dumps({"rank": 0, "time": 0.5, "message": "ValueError: bad batch", "traceback": ""})
    )
    assert root_cause(tmp_path, 2) == "ranks 0, 1 failed: ValueError: bad batch"


def test_a_rank_that_died_silently_is_named_rather_than_the_peers_it_left(tmp_path: Path):
    lost = "RuntimeError: [gloo/transport/tcp/pair.cc:553] Connection closed by peer [10.0.0.2]:4711"
    for rank in (0, 2):
        (tmp_path / f"rank-{rank}.json").write_text(json.dumps({"rank": rank, "time": rank, "message": lost}))
    assert root_cause(tmp_path, 3) == (
        f"rank 1 stopped without a report (killed, out of memory, or its node went down); rank 0 lost it: {lost}"
    )
    (tmp_path / "rank-1.json").write_text(json.dumps({"rank": 1, "time": 5, "message": "ValueError: bad batch"}))
    assert root_cause(tmp_path, 4) == "rank 1 failed: ValueError: bad batch"  # the one that says what went wrong


def test_train_params_are_validated():
    with pytest.raises(ConfigError, match=r"train.learning_rate"):
        params(learning_rate=0)
    with pytest.raises(ConfigError, match=r"train.scheduler"):
        params(scheduler="exponential")
    with pytest.raises(ConfigError, match=r"lora.target_modules"):
        parse_params({"lora": {"target_modules": []}})


def test_early_stopping_counts_evaluations_without_improvement():
    state = recipe.TrainerState(fingerprint="x", total_steps=100)
    losses = [3.0, 2.5, 2.45, 2.6, 2.5]
    best_flags = []
    for step, loss in enumerate(losses, start=1):
        state.step = step
        best_flags.append(state.record_eval(loss, min_delta=0.1, patience=3))
    assert best_flags == [True, True, False, False, False]
    assert state.best_val_loss == 2.5 and state.best_step == 2
    assert state.stopped_early
    never = recipe.TrainerState(fingerprint="x", total_steps=100)
    for loss in (1.0, 2.0, 3.0, 4.0):
        never.record_eval(loss, min_delta=0.0, patience=None)
    assert not never.stopped_early


def test_fingerprint_covers_data_base_weights_and_trajectory_settings(tmp_path: Path):
    from tasks.training.launcher import TrainPaths, fingerprint

    (tmp_path / "split").mkdir()
    (tmp_path / "base").mkdir()
    for name in ("split/train.jsonl", "split/validation.jsonl", "base/config.json", "base/model.safetensors"):
        (tmp_path / name).write_text("x")
    paths = TrainPaths(tmp_path / "base", tmp_path / "split", *(tmp_path / n for n in "abcd"))
    first = fingerprint(params(), 1, paths)
    assert fingerprint(params(log_every=7, checkpoint_every=3, keep_checkpoints=5), 1, paths) == first
    assert fingerprint(params(learning_rate=3e-4), 1, paths) != first
    assert fingerprint(params(), 2, paths) != first
    (tmp_path / "base/model.safetensors").write_text("other weights")
    assert fingerprint(params(), 1, paths) != first
