"""What a benchmark ran on, printed with its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    text = f"{model}, {os.cpu_count()} logical cores, Python {platform.python_version()}"
    import torch

    if torch.cuda.is_available():
        text += f"; GPU {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return text
