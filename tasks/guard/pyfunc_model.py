"""The injection classifier as an MLflow pyfunc, logged from this file (models-from-code: nothing is unpickled).

mlflow.pyfunc.load_model("models:/llmops-injection-guard/1").predict(["ignore your rules and ..."])
-> the probability of an injection for each text; the classifier's threshold is in the version's artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow


class InjectionGuardModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        from tasks.guard.classifier import load

        self._classifier = load(Path(context.artifacts["weights"]).parent)

    def predict(self, model_input: list[str], params: dict[str, Any] | None = None) -> list[float]:
        from tasks.models.embeddings import embed

        return self._classifier.scores([str(t) for t in model_input], embed).tolist()


mlflow.models.set_model(InjectionGuardModel())
