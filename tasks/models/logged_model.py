"""The model as MLflow logs it: the LoRA adapter merged into the base, with `tasks.pyfunc` as its only code.

The logged copy of the code is `tasks/__init__.py` plus `tasks/pyfunc/`: enough for a process without this
checkout to import `tasks.pyfunc.chat_model` and generate, and nothing of the CLI, training or serving.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

PYFUNC_DIR = Path(__file__).resolve().parents[1] / "pyfunc"
REQUIREMENTS = ("torch", "transformers", "accelerate", "safetensors", "pandas", "mlflow")


def merged_model(base_dir: Path, adapter_dir: Path):
    """Base + LoRA adapter folded into plain weights: the model as it is served."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    merged = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    # As a model loaded from the merged folder is (what serving loads): PEFT leaves the weights frozen, and then
    # torch's matmul does not fold the prefill's last-token logits into one mm but copies the 49k x 576 output
    # weight once per row of the batch (bf16 on CPU: 5.8 s per batch of 64, 1.7x the whole generation).
    return merged.requires_grad_(True)


def merge_adapter(base_dir: Path, adapter_dir: Path, out_dir: Path) -> None:
    """Base + adapter as one plain transformers directory: faster to serve, loadable without peft."""
    from transformers import AutoTokenizer

    merged_model(base_dir, adapter_dir).save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out_dir)


def log_chat_model(model_dir: Path, name: str = "model") -> str:
    """Log a merged model directory under the active run; returns its model URI.

    MLflow checks the input example by loading the logged model and generating once, so a model that
    cannot be served fails here rather than at deploy time.
    """
    from mlflow.models import infer_signature

    example = pd.DataFrame({"messages": [[{"role": "user", "content": "My internet is down, what can I do?"}]]})
    signature = infer_signature(example, ["Restart the router."], params={"max_new_tokens": 128, "temperature": 0.0})
    requirements = [f"{pkg}=={importlib.metadata.version(pkg)}" for pkg in REQUIREMENTS]
    with tempfile.TemporaryDirectory() as staging:
        code = _stage_code(Path(staging))
        info = mlflow.pyfunc.log_model(
            name=name,
            python_model=str(code / "pyfunc" / "model_code.py"),
            artifacts={"model": str(model_dir)},
            code_paths=[str(code)],
            signature=signature,
            input_example=example,
            pip_requirements=requirements,
        )
    return info.model_uri


def _stage_code(staging: Path) -> Path:
    """A `tasks` package holding only `pyfunc`, so the model's `code/` imports the same names as this checkout."""
    code = staging / "tasks"
    shutil.copytree(PYFUNC_DIR, code / "pyfunc", ignore=shutil.ignore_patterns("__pycache__"))
    (code / "__init__.py").write_text('"""The code logged with a model: tasks.pyfunc only."""\n')
    return code
