"""What a benchmark ran on, printed with its figures."""

from __future__ import annotations

import os
import platform
import timeit
from pathlib import Path


def describe(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in cpuinfo.read_text().split("\n\n")[0].splitlines())
        )
    except OSError:
        fields = {}
    model = fields.get("model name") or platform.processor() or "unknown CPU"
    if "cpu family" in fields:
        model += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    text = f"{model}, {vector_units(set(fields.get('flags', '').split()))}, {os.cpu_count()} logical cores"
    text += f", Python {platform.python_version()} ({python_loop_ms():.1f} ms a pure-Python loop)"
    import torch

    if torch.cuda.is_available():
        text += f"; GPU {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return text


def python_loop_ms() -> float:
    """Milliseconds for sum(range(10**6)), best of five: the scrub and the data stages are pure Python, and the
    same "AMD EPYC" name has run them at 2,283 and at 757 records/s (docs/operations.md); this tells which."""
    return min(timeit.repeat("sum(range(10**6))", number=1, repeat=5)) * 1000


def vector_units(flags: set[str]) -> str:
    """The widest vector instructions the CPU has. They decide what a matrix product costs, int8 ones most: the
    guard's screen of a 100-token message took 25 ms on the cores earlier sessions had and 85-96 ms on a later
    session's AVX2 cores without VNNI (docs/guardrails.md), and "AMD EPYC" named both."""
    if "avx512_vnni" in flags:
        return "AVX-512 VNNI"
    if "avx512f" in flags:
        return "AVX-512"
    if "avx_vnni" in flags:
        return "AVX2 with VNNI"
    if "avx2" in flags:
        return "AVX2 without VNNI"
    return "no AVX2" if flags else "vector units unknown"
