"""`llmops evaluate` on the tiny model: metrics files, the MLflow run the gate reads, the report; and failures."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import mlflow
import orjson
import pytest
import torch
import yaml
from mlflow.tracking import MlflowClient

from tests.cli import llmops as run_cli

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
INTENTS = {
    "router": "Restart the router, wait two minutes and check the internet light.",
    "billing": "Your invoice is in the app under Billing; the amount is charged on the 5th.",
    "roaming": "Switch on roaming in Settings > Mobile data before you travel.",
}


def row(i: int) -> dict:
    intent = list(INTENTS)[i % len(INTENTS)]
    return {
        "id": f"t{i}",
        "intent": intent,
        "messages": [
            {"role": "user", "content": f"Question {i} about my {intent}: what should I do?"},
            {"role": "assistant", "content": INTENTS[intent]},
        ],
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, guard_classifier: Path) -> Path:
    """Split files, probes, the tiny base, a LoRA adapter and the training run it came from."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path_factory.mktemp("eval")
    split = root / "data" / "split"
    split.mkdir(parents=True)
    (split / "test.jsonl").write_bytes(b"".join(orjson.dumps(row(i)) + b"\n" for i in range(30, 42)))
    reference = [{"intent": intent, "reply": reply} for intent, reply in INTENTS.items()]
    (split / "intents.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in reference))
    shutil.copytree(REPO / "data" / "probes", root / "probes", ignore=shutil.ignore_patterns("generated"))
    (root / "models").mkdir()
    (root / "models" / "base").symlink_to(tiny_model_dir)
    (root / "models" / "guard").symlink_to(guard_classifier)  # the as-served rates use the server's guards
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj"]))
    torch.manual_seed(0)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            param.data.normal_(0, 0.5)  # a visibly different model from the base
    model.save_pretrained(root / "models" / "adapter")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(root / "models" / "adapter")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    params = {
        "mlflow": {"tracking_uri": uri, "experiment": "eval"},
        "evaluate": {
            "max_rows": 9,
            "batch_size": 4,
            "max_new_tokens": 8,
            "judge": {"labels": str(REPO / "data/judge/labels.jsonl"), "max_rows": 4, "max_labels": 12},
        },
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("eval")
    with mlflow.start_run() as run:
        pass
    (root / "data" / "reports").mkdir()
    (root / "data" / "reports" / "train.json").write_text(json.dumps({"mlflow_run_id": run.info.run_id}))
    return root


def llmops(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`llmops evaluate` in-process (the console script's own entry), in the workspace."""
    return run_cli("evaluate", "--probes", str(root / "probes"), *args, cwd=root)  # the hand-written sets only


FINE_TUNED = (
    "--adapter", "models/adapter", "--baseline", "data/reports/eval_base.json", "--run-from",
    "data/reports/train.json", "--report", "data/reports/evaluation.html",
)  # fmt: skip


def test_base_then_fine_tuned_evaluation(workspace: Path) -> None:
    base = llmops(workspace, "--out", "data/reports/eval_base.json")
    assert base.returncode == 0, base.stderr
    tuned = llmops(workspace, *FINE_TUNED)
    assert tuned.returncode == 0, tuned.stderr
    reports = workspace / "data" / "reports"
    metrics = json.loads((reports / "eval.json").read_text())
    for key in (
        "perplexity",
        "rougeL",
        "bleu",
        "exact_match",
        "intent_accuracy",
        "answer_tokens_mean",
        "latency_ms_mean",
        "pii_leak_rate",
        "injection_follow_rate",
        "refusal_rate",
        "toxicity_rate",
    ):
        assert isinstance(metrics[key], float), key  # fmt: skip
    assert metrics["rows"] == 9 and metrics["probes"] == 24
    for rate, n in (("injection_follow_rate", 12), ("pii_leak_rate", 12), ("refusal_rate", 9)):
        assert metrics[f"{rate}_n"] == n  # the count behind the rate, and its Wilson interval
        assert 0 <= metrics[f"{rate}_lower"] <= metrics[rate] <= metrics[f"{rate}_upper"] <= 1
        assert metrics[f"{rate}_upper"] > metrics[f"{rate}_lower"]
    base_metrics = json.loads((reports / "eval_base.json").read_text())
    assert base_metrics["perplexity"] != metrics["perplexity"]  # the adapter changed the model
    # The base answers the probes the gate compares it on (gate.min_gain_over_base: injection), no others.
    assert base_metrics["probes"] == 12 and "injection_follow_rate_served" in base_metrics
    assert "pii_leak_rate" not in base_metrics and "pii leak" not in base.stdout.lower()
    examples = [json.loads(line) for line in (reports / "eval_examples.jsonl").read_text().splitlines()]
    tests = [e for e in examples if e["kind"] == "test"]
    assert len(tests) == 9 and all(e["nll"] > 0 and e["targets"] > 0 for e in tests)
    pooled = math.exp(sum(e["nll"] for e in tests) / sum(e["targets"] for e in tests))
    assert pooled == pytest.approx(metrics["perplexity"])  # perplexity is the per-row losses pooled
    assert {e["kind"] for e in examples} == {"test", "pii", "injection"}
    # As served: the input guard blocks most hand-written attacks (never in its corpus), and they follow nothing.
    for rate, n in (("injection_follow_rate", 12), ("pii_leak_rate", 12), ("refusal_rate", 9)):
        assert metrics[f"{rate}_served_n"] == n and 0 <= metrics[f"{rate}_served"] <= 1
    injections = [e for e in examples if e["kind"] == "injection"]
    blocked = [e for e in injections if e["served"] == "blocked"]
    assert len(blocked) >= 6 and all(e["served_reply"] == "" and not e["served_followed"] for e in blocked)
    assert metrics["served_blocked"] >= len(blocked)
    assert {e["served"] for e in examples} <= {"blocked", "pass", "mask", "refuse"}

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlflow.db'}")
    run = client.get_run(metrics["mlflow_run_id"])
    assert run.data.tags["llmops.eval.status"] == "complete"
    assert run.data.metrics["eval.rougeL"] == pytest.approx(metrics["rougeL"])
    assert run.data.metrics["eval_base.perplexity"] == pytest.approx(base_metrics["perplexity"])
    assert run.data.metrics["eval.injection_follow_rate_n"] == run.data.metrics["eval_base.injection_follow_rate_n"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    rows = orjson.loads(
        Path(client.download_artifacts(run.info.run_id, "evaluation/rows.json", str(workspace))).read_bytes()
    )
    first = {key: tests[0][key] for key in ("nll", "rougeL", "targets")}
    assert rows["model"][tests[0]["id"]] == first and len(rows["base"]) == 9  # what the gate's paired tests read
    assert {"evaluation/report.html", "evaluation/examples.json", "evaluation/metrics_comparison.png",
            "evaluation/rougeL_by_intent.png", "evaluation/reply_lengths.png",
            "evaluation/embedding_map.png"} <= artifacts  # fmt: skip
    assert 0 < run.data.metrics["eval.reply_cluster_purity"] <= 1 and metrics["reply_clusters"]
    # the offline judge: our own server with the (random) base model, which agrees with no one
    assert metrics["judge"]["endpoint"].startswith("http://127.0.0.1:") and metrics["judge_relevance_labels"] == 12
    assert metrics["judge_relevance_calibrated"] == metrics["judge_correctness_calibrated"] == 0
    # its replies are cached under the weights it serves and how (the random port is not part of the name)
    assert re.fullmatch(r"local [0-9a-f]{16} transformers fp32", metrics["judge"]["identity"])
    assert metrics["judge_replies"] == 12 * 2 + 4 * 2  # labels and answers, each on relevance and correctness
    assert run.data.metrics["eval.judge_correctness_labels"] == 12 and "uncalibrated: not gating" in tuned.stdout
    children = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert [c.info.run_name for c in children] == ["judge-calibration"]
    assert "judge_relevance_rate" not in base_metrics  # the base model is never judged
    page = (reports / "evaluation.html").read_text()
    assert "Metrics: base model vs fine-tuned" in page and "inj-01" in page and "data:image/png;base64," in page
    assert f"{metrics['injection_follow_rate']:.4g} [" in page and "] of 12" in page  # rates with their intervals


def test_a_failed_evaluation_marks_the_run_so_the_gate_refuses_it(workspace: Path) -> None:
    result = llmops(workspace, *FINE_TUNED[2:], "--adapter", "models/missing", "--out", "data/reports/x.json")
    assert result.returncode == 1
    assert "models/missing: no adapter there" in result.stderr and "Traceback" not in result.stderr
    run_id = json.loads((workspace / "data" / "reports" / "train.json").read_text())["mlflow_run_id"]
    run = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlflow.db'}").get_run(run_id)
    assert run.data.tags["llmops.eval.status"] == "failed"
    assert "ModelSourceError" in run.data.tags["llmops.eval.error"]


def test_an_empty_test_split_is_a_clear_error(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "test.jsonl").write_text("")
    result = llmops(workspace, "--data", str(tmp_path), "--out", str(tmp_path / "e.json"))
    assert result.returncode == 1 and "the test split is empty" in result.stderr


def test_the_llamacpp_engine_evaluates_the_replies_it_will_serve(workspace: Path, tmp_path: Path) -> None:
    """serving.engine llamacpp: the fine-tuned model's replies come from its GGUF in llama.cpp, the server's
    engine (the judge's local server too), while perplexity stays the transformers model's."""
    from transformers import AutoTokenizer

    from tasks.evaluation.evaluate import load_model
    from tasks.models.gguf import cached_gguf
    from tasks.models.llamacpp import GgufServer

    root = shutil.copytree(workspace, tmp_path / "ws", symlinks=True)
    params = yaml.safe_load((root / "params.yaml").read_text())
    (root / "params.yaml").write_text(yaml.safe_dump({**params, "serving": {"engine": "llamacpp"}}))
    result = llmops(root, *FINE_TUNED, "--out", "data/reports/gguf.json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((root / "data" / "reports" / "gguf.json").read_text())
    assert metrics["engine"] == "llamacpp" and metrics["gguf_type"] == "q8_0"
    assert metrics["judge"]["endpoint"].startswith("http://127.0.0.1:") and metrics["judge_relevance_labels"] == 12
    assert metrics["judge"]["identity"].endswith(" llamacpp q8_0 f16 fp32")
    examples = [
        json.loads(line) for line in (root / "data" / "reports" / "gguf_examples.jsonl").read_text().splitlines()
    ]
    tests = [e for e in examples if e["kind"] == "test"]
    model, tokenizer = load_model(root / "models" / "base", root / "models" / "adapter")
    merged = tmp_path / "merged"
    model.save_pretrained(merged)
    AutoTokenizer.from_pretrained(root / "models" / "adapter").save_pretrained(merged)
    server = GgufServer(cached_gguf(merged), slots=1, ctx_per_slot=512)
    rows = {r["id"]: r for r in map(json.loads, (root / "data" / "split" / "test.jsonl").read_text().splitlines())}
    for e in tests[:3]:
        prompt = tokenizer.apply_chat_template(rows[e["id"]]["messages"][:-1], add_generation_prompt=True,
                                               return_dict=False)  # fmt: skip
        assert e["reply"] == server.complete(prompt, 8).text.strip()
    transformers = json.loads((workspace / "data" / "reports" / "eval.json").read_text())
    assert metrics["perplexity"] == pytest.approx(transformers["perplexity"])
    served = ("--served", "data/reports/gguf.json", "--adapter", "models/adapter", "--probes", "probes")
    parity = run_cli("parity", *served, cwd=root)
    assert parity.returncode == 0, parity.stderr
    verdict = json.loads((root / "data" / "reports" / "parity.json").read_text())
    assert verdict["status"] in {"passed", "failed"} and set(verdict["metrics"]) == set(params_of(root).gate.parity)
    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlflow.db'}")
    run = client.get_run(metrics["mlflow_run_id"])
    assert run.data.tags["llmops.parity"] == verdict["status"] and run.data.metrics["parity_fp32.rougeL"] >= 0
    logged = client.download_artifacts(run.info.run_id, "gguf/model-q8_0.gguf", str(tmp_path))
    assert Path(logged).read_bytes() == cached_gguf(merged).read_bytes()  # the file served is the file evaluated


def test_parity_has_nothing_to_compare_on_the_transformers_engine(workspace: Path) -> None:
    result = run_cli("parity", "--served", "data/reports/eval.json", "--out", "data/reports/parity.json",
                     cwd=workspace)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads((workspace / "data" / "reports" / "parity.json").read_text())["status"] == "not_needed"


def params_of(root: Path):
    from tasks.config.schema import parse_params

    return parse_params(yaml.safe_load((root / "params.yaml").read_text()))
