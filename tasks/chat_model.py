"""The model as MLflow logs it: the LoRA adapter merged into the base, wrapped as a pyfunc chat model.

A fresh process loads it with `mlflow.pyfunc.load_model("models:/NAME@champion")` (or a `runs:/` URI) and
calls `predict(pd.DataFrame({"messages": [[{"role": "user", "content": "..."}]]}))`. The `tasks` package is
stored with the model, so loading needs only the pip requirements, not this checkout.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

TASKS_DIR = Path(__file__).resolve().parent
REQUIREMENTS = ("torch", "transformers", "accelerate", "safetensors", "pandas", "mlflow")


def merged_model(base_dir: Path, adapter_dir: Path):
    """Base + LoRA adapter folded into plain weights: the model as it is served."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    return PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()


def merge_adapter(base_dir: Path, adapter_dir: Path, out_dir: Path) -> None:
    """Base + adapter as one plain transformers directory: faster to serve, loadable without peft."""
    from transformers import AutoTokenizer

    merged_model(base_dir, adapter_dir).save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out_dir)


class ChatModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = context.artifacts["model"]
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path).eval()

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> list[str]:
        from tasks.generation import generate_replies

        params = params or {}
        conversations = [list(m) for m in model_input["messages"]]
        return generate_replies(
            self.model,
            self.tokenizer,
            conversations,
            int(params.get("max_new_tokens", 128)),
            float(params.get("temperature", 0.0)),
        )


def log_chat_model(model_dir: Path, name: str = "model") -> str:
    """Log a merged model directory under the active run; returns its model URI.

    MLflow checks the input example by loading the logged model and generating once, so a model that
    cannot be served fails here rather than at deploy time.
    """
    from mlflow.models import infer_signature

    example = pd.DataFrame({"messages": [[{"role": "user", "content": "My internet is down, what can I do?"}]]})
    signature = infer_signature(example, ["Restart the router."], params={"max_new_tokens": 128, "temperature": 0.0})
    requirements = [f"{pkg}=={importlib.metadata.version(pkg)}" for pkg in REQUIREMENTS]
    info = mlflow.pyfunc.log_model(
        name=name,
        python_model=str(TASKS_DIR / "chat_model_code.py"),
        artifacts={"model": str(model_dir)},
        code_paths=[str(TASKS_DIR)],
        signature=signature,
        input_example=example,
        pip_requirements=requirements,
    )
    return info.model_uri
