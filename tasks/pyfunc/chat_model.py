"""The model as MLflow serves it: merged weights wrapped as a pyfunc chat model.

A fresh process loads it with `mlflow.pyfunc.load_model("models:/NAME@champion")` (or a `runs:/` URI) and
calls `predict(pd.DataFrame({"messages": [[{"role": "user", "content": "..."}]]}))`.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd

from tasks.pyfunc.generation import generate_replies


class ChatModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = context.artifacts["model"]
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path).eval()

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> list[str]:
        params = params or {}
        conversations = [list(m) for m in model_input["messages"]]
        return generate_replies(
            self.model,
            self.tokenizer,
            conversations,
            int(params.get("max_new_tokens", 128)),
            float(params.get("temperature", 0.0)),
        )
