"""A merged transformers model as one GGUF file, written by llama.cpp's own converter.

The converter (`convert_hf_to_gguf.py`, its `conversion` package and the `gguf-py` it was written against) comes
from the llama-cpp-python source distribution; `make setup` unpacks it into `.venv/share/llama.cpp`. It runs in a
child process with that `gguf-py` first on the path, so it never meets the `gguf` release transformers uses.
q8_0 is the default type: SmolLM2's 576-wide rows are not a multiple of the k-quants' 256-value blocks.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tasks.core.errors import ModelSourceError
from tasks.core.files import user_cache

log = logging.getLogger(__name__)

CONVERTER = Path(sys.prefix) / "share" / "llama.cpp"
OUTTYPES = ("q8_0", "f16", "bf16", "f32")
GGUF_DIR = "gguf"  # a training run's artifact folder for the GGUF its parity check evaluated
GGUF_TAG = "llmops.gguf"  # on a model version: runs:/RUN/gguf/model-TYPE.gguf, its llamacpp variant
CACHE_KEEP = 8  # GGUFs the user's cache keeps: every evaluated fine-tune adds one (145 MB for SmolLM2 in q8_0)


def gguf_file(gguf_type: str) -> str:
    return f"model-{gguf_type}.gguf"


def converter() -> Path:
    script = CONVERTER / "convert_hf_to_gguf.py"
    if not script.is_file():
        raise ModelSourceError(f"{script} is missing: llama.cpp's GGUF converter is unpacked by `make setup`")
    return script


def export_gguf(model_dir: Path, out: Path, outtype: str = "q8_0") -> Path:
    """Convert `model_dir` (config, safetensors, tokenizer) into `out`; the file appears whole or not at all."""
    if outtype not in OUTTYPES:
        raise ModelSourceError(f"GGUF type {outtype!r} is not one of {', '.join(OUTTYPES)}")
    if not (model_dir / "config.json").is_file():
        raise ModelSourceError(f"{model_dir}: no transformers model there to convert to GGUF")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    env = {**os.environ, "PYTHONPATH": str(CONVERTER / "gguf-py"), "NO_LOCAL_GGUF": ""}
    cmd = [sys.executable, str(converter()), str(model_dir), "--outtype", outtype, "--outfile", tmp]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ModelSourceError(f"{model_dir}: llama.cpp's converter failed ({done.returncode}): {last}")
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    log.info("%s -> %s (%s, %.0f MB)", model_dir, out, outtype, out.stat().st_size / 1e6)
    return out


def weights_digest(model_dir: Path) -> str:
    """What the conversion depends on: the weights, the config and the tokenizer files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def cached_gguf(model_dir: Path, outtype: str = "q8_0") -> Path:
    """The GGUF of `model_dir`, converted once per content and type into the user's cache."""
    out = user_cache("gguf") / f"{weights_digest(model_dir)}-{outtype}.gguf"
    return kept(out if out.is_file() else export_gguf(model_dir, out, outtype))


def kept(path: Path, keep: int = CACHE_KEEP) -> Path:
    """`path` marked as just used, and the least recently used GGUFs beside it beyond `keep` removed, so a machine
    that retrains on a schedule does not fill its disk. A removed file a server still maps stays readable to it."""

    def used_at(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except FileNotFoundError:  # removed by another process meanwhile
            return 0.0

    os.utime(path)
    for old in sorted(path.parent.glob("*.gguf"), key=used_at, reverse=True)[keep:]:
        if old != path:
            old.unlink(missing_ok=True)
    return path
