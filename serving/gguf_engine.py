"""The llama.cpp engine: a registry version's GGUF served by llama.cpp's continuous batching (`serving.engine:
llamacpp`).

`serving.max_batch` worker threads each carry one request at a time into llama.cpp, which decodes all of them
together, a request joining or leaving the batch between steps. A swap takes effect for the next request; the ones
in flight finish on the GGUF they started with.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from serving.engine import Job, Loaded, QueuedEngine
from tasks.config.schema import ServingParams
from tasks.core.errors import ModelSourceError
from tasks.core.files import user_cache
from tasks.models.downloaded import download
from tasks.models.gguf import GGUF_TAG, cached_gguf, gguf_file, kept
from tasks.models.llamacpp import GgufServer

log = logging.getLogger(__name__)


def load_gguf(model_dir: Path, name: str, version: str, serving: ServingParams, gguf: Path | None = None) -> Loaded:
    """`gguf` (default: `model_dir` converted to serving.gguf_type) with `model_dir`'s tokenizer, and a KV-cache slot
    per serving.max_batch for the longest request."""
    from transformers import AutoTokenizer

    gguf = gguf or cached_gguf(model_dir, serving.gguf_type)
    context = serving.max_input_tokens + serving.max_new_tokens
    server = GgufServer(gguf, serving.max_batch, context, kv_cache=serving.gguf_kv_cache)
    return Loaded(name=name, version=version, model=server, tokenizer=AutoTokenizer.from_pretrained(model_dir))


def load_version(name: str, version: str, serving: ServingParams) -> Loaded:
    """A registry version as GGUF: the variant its parity check evaluated (version tag llmops.gguf), else its
    weights converted here, with a warning that this GGUF's replies were never evaluated."""
    from mlflow.tracking import MlflowClient

    try:
        _, merged = download(name, version)
        variant = MlflowClient().get_model_version(name, version).tags.get(GGUF_TAG)
        gguf = evaluated_gguf(variant, serving.gguf_type) if variant else None
    except Exception as err:
        raise ModelSourceError(f"models:/{name}/{version} could not be downloaded: {err}") from err
    if gguf is None:
        log.warning("models:/%s/%s has no %s GGUF that passed the parity check (tag %s); converting its weights, "
                    "whose GGUF replies were never evaluated", name, version, serving.gguf_type, GGUF_TAG)  # fmt: skip
    return load_gguf(merged, name, version, serving, gguf)


def evaluated_gguf(variant: str, gguf_type: str) -> Path | None:
    """The variant's file, downloaded once into the user's cache; None when it is of another type."""
    import mlflow

    if not variant.endswith(gguf_file(gguf_type)):
        return None
    run_id = variant.removeprefix("runs:/").split("/", 1)[0]
    cached = user_cache("gguf") / f"run-{run_id}-{gguf_type}.gguf"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
            downloaded = Path(mlflow.artifacts.download_artifacts(variant, dst_path=tmp))
            os.replace(downloaded, cached)
    return kept(cached)


class LlamaCppEngine(QueuedEngine):
    def __init__(self, slots: int, max_queue: int) -> None:
        super().__init__(max_queue)
        self.slots = slots
        self._busy = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, name=f"gguf-{i}", daemon=True) for i in range(slots)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=60)

    def warm_up(self, loaded: Loaded) -> None:
        loaded.model.complete(loaded.tokenizer("hello")["input_ids"], 2)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if job.cancelled:
                job.finish_reason = "cancelled"
                job.emit("done", None)
                continue
            loaded = self.current
            with self._lock:
                self._busy += 1
                busy = self._busy
            if self.on_batch:
                self.on_batch(busy, self.depth)
            try:
                self._generate(loaded, job)
            except Exception as err:
                log.exception("generation failed on %s", loaded.label)
                job.emit("error", err)
            else:
                job.emit("done", loaded.version)
            finally:
                with self._lock:
                    self._busy -= 1

    def _generate(self, loaded: Loaded, job: Job) -> None:
        job.started_at = time.perf_counter()
        job.emit("start", loaded.version)

        def on_text(piece: str) -> bool:
            if not job.text:
                job.first_token_at = time.perf_counter()
            job.text += piece
            job.emit("delta", piece)
            job.sent = len(job.text)
            return job.cancelled

        done = loaded.model.complete(job.prompt_ids, job.max_new_tokens, job.temperature, job.stop, on_text)
        job.finish_reason = done.finish_reason
        job.counted = done.tokens
