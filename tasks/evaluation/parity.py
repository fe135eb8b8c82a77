"""Accuracy parity of the GGUF the llamacpp engine serves with the transformers model it was converted from.

llmops parity --adapter models/adapter --served data/reports/eval.json --run-from data/reports/train.json

With serving.engine llamacpp, the evaluate stage's replies came from the q8_0 GGUF. This evaluates the same model
with transformers on the same rows and probes and compares the two with gate.parity (tasks.evaluation.gate.parity).
On the training run it logs the verdict (tag llmops.parity), both sides' metrics, and the GGUF itself as the
model's `gguf/` variant, which the llamacpp engine downloads instead of converting again: the file served is the
file evaluated. With serving.engine transformers there is nothing to compare; it says so and passes.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from tasks.config.schema import Params
from tasks.core.errors import DataFormatError
from tasks.core.files import read_jsonl, write_json
from tasks.evaluation.paths import EvalPaths, examples_of

log = logging.getLogger("llmops.parity")


@dataclass(frozen=True)
class ParityPaths:
    eval: EvalPaths  # the evaluate stage's inputs; `out` is its metrics file (the served engine's)
    out: Path  # the parity verdict (DVC metrics)


def check(params: Params, paths: ParityPaths) -> dict[str, Any]:
    served_file = paths.eval.out
    if not served_file.is_file():
        raise DataFormatError(f"{served_file}: the served engine's evaluation is missing; run `dvc repro evaluate`")
    served = orjson.loads(served_file.read_bytes())
    engine = params.serving.engine
    if engine != "llamacpp":
        summary = {"status": "not_needed", "engine": engine, "reason": f"serving.engine is {engine}: no GGUF served"}
        write_json(paths.out, summary)
        return summary
    if served.get("engine") != "llamacpp":
        raise DataFormatError(f"{served_file}: evaluated with {served.get('engine', 'transformers')}, not llamacpp; "
                              "run `dvc repro evaluate` after setting serving.engine")  # fmt: skip
    # Imported here: the stage runs in every pipeline, and with serving.engine transformers it needs no torch.
    from tasks.evaluation import gate, probes, statistics
    from tasks.evaluation.evaluate import _measure, test_rows

    reference_params = params.model_copy(
        update={"serving": params.serving.model_copy(update={"engine": "transformers"})}
    )
    rows = test_rows(paths.eval.test, params.evaluate.max_rows)
    reference, reference_examples = _measure(reference_params, paths.eval, rows, probes.load_probes(paths.eval.probes))
    served_rows = statistics.row_table(list(read_jsonl(examples_of(served_file))))
    decision = gate.parity(served, reference, params.gate, (served_rows, statistics.row_table(reference_examples)))
    compared = {m: {"gguf": served.get(m), "transformers": reference.get(m)} for m in params.gate.parity}
    summary = {
        "status": decision.status, "reason": decision.reason, "engine": engine,
        "gguf_type": params.serving.gguf_type, "gguf_kv_cache": params.serving.gguf_kv_cache, "metrics": compared,
        "checks": [asdict(c) for c in decision.checks],
    }  # fmt: skip
    run_id = served.get("mlflow_run_id")
    if run_id:
        _log(params, run_id, paths, summary, reference)
        summary["mlflow_run_id"] = run_id
    write_json(paths.out, summary)
    return summary


def _log(params: Params, run_id: str, paths: ParityPaths, summary: dict, reference: dict) -> None:
    """The verdict, the transformers side's metrics (parity_fp32.*) and the GGUF that was evaluated."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    from tasks.evaluation.evaluate import load_model, merged_gguf
    from tasks.evaluation.run_log import PARITY_REASON_TAG, PARITY_TAG
    from tasks.models.gguf import GGUF_DIR, gguf_file
    from tasks.models.inference import inference_dtype
    from tasks.tracking.runs import use_experiment

    use_experiment(params)
    client = MlflowClient()
    numbers = {k: float(v) for k, v in reference.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    client.log_batch(run_id, metrics=[Metric(f"parity_fp32.{k}", v, 0, 0) for k, v in numbers.items()])
    client.log_dict(run_id, summary, "evaluation/parity.json")
    model, tokenizer = load_model(paths.eval.base, paths.eval.adapter, inference_dtype(params.model.inference_dtype))
    evaluated = merged_gguf(paths.eval, model, tokenizer, params.serving.gguf_type)
    with tempfile.TemporaryDirectory(prefix="llmops-parity-") as tmp:
        named = Path(tmp) / gguf_file(params.serving.gguf_type)
        os.link(evaluated, named)  # the evaluated file, under a stable name
        client.log_artifact(run_id, str(named), GGUF_DIR)
    client.set_tag(run_id, PARITY_REASON_TAG, summary["reason"][:5000])
    client.set_tag(run_id, PARITY_TAG, summary["status"])
