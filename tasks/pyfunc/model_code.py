"""The file MLflow runs to rebuild the logged chat model (models-from-code: nothing is unpickled)."""

import mlflow

from tasks.pyfunc.chat_model import ChatModel

mlflow.models.set_model(ChatModel())
