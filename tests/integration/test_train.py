"""Real training: 2 DeepSpeed CPU ranks under torchrun, a real sqlite MLflow store, kill -9 and resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pandas as pd
import pytest
import yaml
from safetensors.torch import load_file

from tasks.core.processes import free_port
from tests.nodes import Node, two_nodes

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
TOPICS = ["router", "SIM card", "invoice", "roaming", "fibre line", "voicemail", "eSIM", "modem"]


def conversation(i: int) -> dict:
    topic = TOPICS[i % len(TOPICS)]
    return {
        "id": f"r{i}",
        "intent": topic,
        "messages": [
            {"role": "user", "content": f"Question {i}: my {topic} stopped working after the update. What now?"},
            {"role": "assistant", "content": f"Sorry about your {topic}. Restart it, wait two minutes, then retry."},
        ],
    }


ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # every rank does the same arithmetic, however the ranks are spread


def make_workspace(root: Path, tiny_model_dir: Path) -> Path:
    """A checkout-like directory: split files, the tiny base model and params for 2 ranks."""
    (root / "data" / "split").mkdir(parents=True)
    for name, rows in (("train", range(96)), ("validation", range(96, 112))):
        lines = b"".join(orjson.dumps(conversation(i)) + b"\n" for i in rows)
        (root / "data" / "split" / f"{name}.jsonl").write_bytes(lines)
    (root / "models").mkdir()
    (root / "models" / "base").symlink_to(tiny_model_dir)
    write_params(root)
    return root


@pytest.fixture
def workspace(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return make_workspace(tmp_path, tiny_model_dir)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """One uninterrupted run of two ranks on one node: what a killed and resumed run, and two nodes, must end
    with exactly. Tests read it, and run again in a copy (`rerun_in`)."""
    root = make_workspace(tmp_path_factory.mktemp("trained"), tiny_model_dir)
    proc = llmops_train(root, env=ONE_THREAD)
    out = finish(proc)
    assert proc.returncode == 0, out
    return root


def rerun_in(trained: Path, root: Path, **train) -> Path:
    """A copy of the trained workspace (its MLflow store, checkpoints and outputs) with these train params."""
    shutil.copytree(trained, root, symlinks=True)
    write_params(root, **train)
    return root


def write_params(root: Path, **train) -> None:
    settings = {
        "world_size": 2,
        "max_steps": 12,
        "micro_batch_size": 2,
        "grad_accum_steps": 2,
        "max_seq_len": 128,
        "eval_every": 4,
        "checkpoint_every": 3,
        "keep_checkpoints": 2,
        "learning_rate": 0.01,
        "warmup_steps": 1,
        "log_every": 1,  # every step reaches MLflow before the kill
        **train,
    }
    params = {"train": settings, "mlflow": {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}", "experiment": "t"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def llmops_train(
    root: Path, env: dict[str, str] | None = None, node: Node | None = None, join: bool = False, **kw
) -> subprocess.Popen:
    full_env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {}), **(node.env() if node else {})}
    full_env.pop("MLFLOW_TRACKING_URI", None)
    argv = [str(BIN / "llmops"), "train", *(["--join"] if join else [])]
    return subprocess.Popen(
        node.command(argv) if node else argv,
        cwd=root,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def finish(proc: subprocess.Popen, timeout: float = 400) -> str:
    out, _ = proc.communicate(timeout=timeout)
    return out


def adapter(root: Path) -> dict:
    return load_file(root / "models" / "adapter" / "adapter_model.safetensors")


def mid_way(latest: Path) -> bool:
    """`latest` names a checkpoint between the third step and the last. A new run clears the last run's file, which
    may happen between a look at it and the read."""
    try:
        return "step-00000003" <= latest.read_text().strip() < "step-00000012"
    except FileNotFoundError:
        return False


def test_two_ranks_train_log_to_mlflow_and_survive_kill_9(trained: Path, tmp_path: Path):
    import mlflow
    from mlflow.tracking import MlflowClient

    # 1. an uninterrupted run
    metrics = json.loads((trained / "data/reports/train.json").read_text())
    assert metrics["steps"] == 12 and not metrics["stopped_early"]
    assert metrics["best_val_loss"] < metrics["initial_val_loss"], "validation loss did not go down"
    history = (trained / "data/reports/train_history.csv").read_text().splitlines()
    assert history[0].startswith("step,loss,val_loss") and len(history) == 14  # header, step 0, 12 steps
    uninterrupted = adapter(trained)
    assert (trained / "models/adapter/tokenizer_config.json").is_file()

    mlflow.set_tracking_uri(f"sqlite:///{trained / 'mlflow.db'}")
    client = MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    assert run.info.status == "FINISHED"
    assert metrics["mlflow_run_id"] == run.info.run_id and metrics["model_uri"] == run.data.tags["llmops.model_uri"]
    assert run.data.params["lora.r"] == "8" and run.data.params["train.world_size"] == "2"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == list(range(1, 13))
    assert {"lr", "tokens_per_s", "grad_norm", "val_loss"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "training")}
    assert {"training/train_history.png", "training/train_history.csv"} <= artifacts
    assert "adapter/adapter_model.safetensors" in {a.path for a in client.list_artifacts(run.info.run_id, "adapter")}

    # 2. the logged model is found by its runs:/ URI, and loads by its models:/ URI and generates (in a fresh
    # process, from the registry: test_deploy.py::test_champion_loads_in_a_fresh_process)
    model_uri = run.data.tags["llmops.model_uri"]
    assert mlflow.models.get_model_info(f"runs:/{run.info.run_id}/model").model_uri == model_uri
    frame = pd.DataFrame({"messages": [[{"role": "user", "content": "My router stopped working."}]]})
    replies = mlflow.pyfunc.load_model(model_uri).predict(frame, params={"max_new_tokens": 5})
    assert len(replies) == 1 and isinstance(replies[0], str), replies

    # 3. the same run again, killed with SIGKILL (whole process group) once a checkpoint exists
    workspace = rerun_in(trained, tmp_path / "ws")
    proc = llmops_train(workspace, env=ONE_THREAD, start_new_session=True)
    latest = workspace / "models/checkpoints/latest"  # still names the finished run's step 12 until cleared

    deadline = time.time() + 300
    while not mid_way(latest):
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = latest.read_text().strip()
    assert killed_at < "step-00000012", "the run finished before it could be killed"
    time.sleep(1)
    assert ranks(workspace) == {}, "ranks outlived their launcher"

    # 4. running the stage again resumes and ends exactly where the uninterrupted run ended
    proc = llmops_train(workspace, env=ONE_THREAD)
    out = finish(proc)
    assert proc.returncode == 0, out
    assert f"resumed from models/checkpoints/{killed_at}" in out
    resumed = json.loads((workspace / "data/reports/train.json").read_text())
    assert resumed["steps"] == 12
    assert resumed["val_loss"] == metrics["val_loss"]
    final = adapter(workspace)
    assert final.keys() == uninterrupted.keys()
    assert all((final[k] == uninterrupted[k]).all() for k in final), "resumed weights differ from uninterrupted"
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")  # the copy's store: the first run, and this one
    runs = client.search_runs([client.get_experiment_by_name("t").experiment_id], order_by=["start_time ASC"])
    assert len(runs) == 2 and runs[1].info.status == "FINISHED" and runs[1].data.tags.get("llmops.resumed") == "true"
    assert len(client.get_metric_history(runs[1].info.run_id, "loss")) >= 12


def losses(root: Path) -> list[tuple[str, str, str]]:
    """step, loss and val_loss of each step in the run's history, as written."""
    rows = (line.split(",") for line in (root / "data/reports/train_history.csv").read_text().splitlines())
    return [(step, loss, val_loss) for step, loss, val_loss, *_ in rows]


def ranks(root: Path) -> dict[int, int]:
    """The training ranks running in `root` (on any node): rank -> pid."""
    found = subprocess.run(["pgrep", "-f", "tasks.training.recipe"], capture_output=True, text=True)
    running = {}
    for pid in map(int, found.stdout.split()):
        proc = Path(f"/proc/{pid}")
        try:
            if proc.joinpath("cwd").resolve() == root.resolve():
                env = dict(v.split("=", 1) for v in proc.joinpath("environ").read_text().split("\0") if "=" in v)
                if "RANK" in env:  # not torchrun, whose command line names the recipe too
                    running[int(env["RANK"])] = pid
        except OSError:
            continue  # ended meanwhile
    return running


def test_two_nodes_train_as_two_ranks_on_one_and_resume_after_a_node_fails(trained: Path, tmp_path: Path):
    """torchrun's c10d rendezvous across two network namespaces, one CPU rank each: `llmops train` on the first
    node, `llmops train --join` on the second."""
    with two_nodes() as nodes:
        endpoint = f"{nodes.first.addr}:{29400 if nodes.first.netns else free_port()}"
        workspace = rerun_in(trained, tmp_path / "ws", world_size=1, nodes=2, rdzv_endpoint=endpoint)
        latest = workspace / "models/checkpoints/latest"  # names the one-node run's last step until cleared
        main = llmops_train(workspace, env=ONE_THREAD, node=nodes.first, start_new_session=True)
        joiner = llmops_train(workspace, env=ONE_THREAD, node=nodes.second, join=True, start_new_session=True)
        deadline = time.time() + 300
        while not mid_way(latest):
            assert main.poll() is None and joiner.poll() is None, main.stdout.read() + joiner.stdout.read()
            assert time.time() < deadline
            time.sleep(0.05)
        pid = ranks(workspace)[1]
        if nodes.first.netns:
            netns = subprocess.run(["ip", "netns", "identify", str(pid)], capture_output=True, text=True)
            assert netns.stdout.strip() == nodes.second.netns, "rank 1 should run on the second node"
        os.kill(pid, signal.SIGKILL)
        out, joined = finish(main), finish(joiner)
        assert main.returncode == 1 and joiner.returncode == 1, out + joined
        failure = [line for line in out.splitlines() if line.startswith("error: ")]
        assert len(failure) == 1, out
        assert failure[0].startswith("error: training failed: rank 1 stopped without a report"), failure
        killed_at = latest.read_text().strip()
        assert "step-00000003" <= killed_at < "step-00000012"

        main = llmops_train(workspace, env=ONE_THREAD, node=nodes.first)
        joiner = llmops_train(workspace, env=ONE_THREAD, node=nodes.second, join=True)
        out, joined = finish(main), finish(joiner)
        assert main.returncode == 0 and joiner.returncode == 0, out + joined
        assert f"resumed from models/checkpoints/{killed_at}" in out, nodes.reason
        assert "this node's 1 rank(s) finished" in joined
    assert losses(workspace) == losses(trained), "two nodes trained differently from two ranks on one node"
    two_nodes_adapter, one_node_adapter = adapter(workspace), adapter(trained)
    assert all((two_nodes_adapter[k] == one_node_adapter[k]).all() for k in one_node_adapter)


def test_a_failing_rank_fails_the_stage_with_its_own_error(workspace: Path, tmp_path_factory):
    """Rank 1 alone raises at its third forward pass (injected through sitecustomize, not product code)."""
    inject = tmp_path_factory.mktemp("inject")
    (inject / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import os
            if os.environ.get("RANK") == "1":
                import torch
                calls = {"n": 0}
                original = torch.nn.Module.__call__
                def failing(self, *args, **kwargs):
                    if type(self).__name__ == "PeftModelForCausalLM":
                        calls["n"] += 1
                        if calls["n"] == 3:
                            raise RuntimeError("disk quota exceeded on rank one")
                    return original(self, *args, **kwargs)
                torch.nn.Module.__call__ = failing
            """
        )
    )
    proc = llmops_train(workspace, env={"PYTHONPATH": str(inject)})
    out = finish(proc)
    assert proc.returncode == 1
    assert "error: training failed: rank 1 failed: RuntimeError: disk quota exceeded on rank one" in " ".join(
        out.split()
    )
    assert not (workspace / "models/adapter").exists()

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    assert run.info.status == "FAILED" and "rank 1 failed" in run.data.tags["llmops.error"]


def test_bad_lora_target_fails_before_any_rank_starts(workspace: Path):
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["lora"] = {"target_modules": ["q_proj", "attn_out"]}
    (workspace / "params.yaml").write_text(yaml.safe_dump(params))
    started = time.time()
    proc = llmops_train(workspace)
    out = finish(proc)
    assert proc.returncode == 1
    assert "lora.target_modules: attn_out match no linear layer" in " ".join(out.split())
    assert "Traceback" not in out and "launching" not in out
    assert time.time() - started < 60


def test_zero3_with_cpu_offload_and_early_stopping(workspace: Path):
    """The second shipped DeepSpeed config, and the best adapter gathered from partitioned parameters."""
    write_params(workspace, deepspeed="zero3_offload", max_steps=6, eval_every=2, early_stopping_patience=1)
    proc = llmops_train(workspace)
    out = finish(proc)
    assert proc.returncode == 0, out
    assert "ZeRO-3" in out
    metrics = json.loads((workspace / "data/reports/train.json").read_text())
    assert metrics["best_step"] is not None and metrics["best_val_loss"] <= metrics["val_loss"]
    weights = adapter(workspace)
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b and all(v.abs().sum() > 0 for v in lora_b), "adapter was not gathered from the ZeRO-3 partitions"
