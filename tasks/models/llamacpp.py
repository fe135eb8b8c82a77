"""llama.cpp's server, in this process, over one GGUF file: the quantized engine for serving and evaluation.

`xllamacpp` runs llama.cpp's own server loop: `slots` requests decode together, joining and leaving the batch
between steps (continuous batching), each with its own KV cache slot. Prompts arrive as token ids, rendered by
the model's Hugging Face tokenizer and chat template, so every engine answers exactly the same prompt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.core.errors import LlmopsError, ModelSourceError


class GenerationError(LlmopsError):
    """llama.cpp refused or failed a request; the message is its own."""


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # stop | length | cancelled
    tokens: int
    seconds: float


class GgufServer:
    """One loaded GGUF; `complete` is thread-safe and blocks its caller while llama.cpp decodes."""

    def __init__(
        self, gguf: Path, slots: int, ctx_per_slot: int = 2048, threads: int | None = None, kv_cache: str = "f16"
    ) -> None:
        """`kv_cache` q8_0 stores keys and values in 8 bits: 16 SmolLM2 slots of 1,536 tokens take 290 MB less."""
        import os

        import xllamacpp

        if not gguf.is_file():
            raise ModelSourceError(f"{gguf}: no GGUF file there")
        p = xllamacpp.CommonParams()
        p.model.path = str(gguf)
        p.n_parallel = slots
        p.n_ctx = slots * ctx_per_slot
        p.cpuparams.n_threads = p.cpuparams_batch.n_threads = threads or len(os.sched_getaffinity(0))
        p.port = 0  # its own HTTP listener takes a free loopback port; nothing here uses it
        p.verbosity = -1
        p.cache_type_k = p.cache_type_v = getattr(xllamacpp.ggml_type, f"GGML_TYPE_{kv_cache.upper()}")
        self.gguf, self.slots = gguf, slots
        try:
            self._server = xllamacpp.Server(p)
        except Exception as err:
            hint = " (a q8_0 KV cache needs attention heads of a multiple of 32 values)" if kv_cache != "f16" else ""
            raise ModelSourceError(f"{gguf}: llama.cpp could not load it{hint}: {err}") from err

    def complete(
        self,
        prompt: list[int],
        max_tokens: int,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        on_text: Callable[[str], bool] | None = None,
    ) -> Completion:
        """Generate after `prompt`; `on_text` gets each new piece and returns True to cancel the request."""
        body: dict[str, Any] = {
            "prompt": prompt, "n_predict": max_tokens, "temperature": temperature, "stop": stop or [],
            "stream": True, "cache_prompt": True,
            "top_k": 0, "top_p": 1.0, "min_p": 0.0,  # plain sampling from the whole distribution, as transformers
        }  # fmt: skip
        started = time.perf_counter()
        pieces: list[str] = []
        state = {"finish": None, "tokens": 0, "error": None, "cancelled": False}

        def chunk(c: dict[str, Any]) -> bool:
            if state["cancelled"]:
                return True  # pieces already in flight when the cancel was asked for
            if "error" in c:
                state["error"] = c["error"].get("message", str(c["error"]))
                return True
            choice = c["choices"][0]
            if text := choice.get("text"):
                pieces.append(text)
                if on_text is not None and on_text(text):
                    state["cancelled"] = True
                    return True
            if choice.get("finish_reason"):
                state["finish"] = choice["finish_reason"]
                state["tokens"] = c.get("usage", {}).get("completion_tokens", 0)
            return False

        self._server.handle_completions(body, chunk)
        if state["error"]:
            raise GenerationError(str(state["error"]))
        finish = "cancelled" if state["cancelled"] else state["finish"] or "length"
        return Completion("".join(pieces), finish, state["tokens"], time.perf_counter() - started)

    def complete_all(self, prompts: list[list[int]], max_tokens: int, progress: Callable[[], None]) -> list[Completion]:
        """Greedy replies for many prompts, `slots` at a time, in the callers' order."""
        done = threading.Lock()

        def one(ids: list[int]) -> Completion:
            completion = self.complete(ids, max_tokens)
            with done:
                progress()
            return completion

        with ThreadPoolExecutor(self.slots, thread_name_prefix="gguf") as pool:
            return list(pool.map(one, prompts))
