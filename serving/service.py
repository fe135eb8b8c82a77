"""Everything one server holds, built once from params: engine, champion watcher, guard, request log, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from serving.access import RateLimiter, TokenBudget, read_keys
from serving.champion import Watcher, load_version
from serving.engine import Engine, Loaded
from serving.gguf_engine import LlamaCppEngine, load_gguf
from serving.gguf_engine import load_version as load_gguf_version
from serving.metrics import Metrics
from serving.tracing import Tracer
from serving.transformers_engine import TransformersEngine
from tasks.config.schema import IndexParams, Params, ServingParams
from tasks.guard.input_guard import Guard, load_guard
from tasks.knowledge.answer_cache import AnswerCache
from tasks.knowledge.context import Prompt, shipped
from tasks.knowledge.retrieve import Retriever
from tasks.models.inference import inference_dtype
from tasks.monitoring.request_log import RequestLog, url_of
from tasks.monitoring.response_scores import Lengths, Scorer, load_scorer
from tasks.tracking import prompts
from tasks.tracking.prompts import PromptRef

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


@dataclass
class Service:
    params: ServingParams
    model_name: str
    engine: Engine
    guard: Guard
    log: RequestLog
    metrics: Metrics
    limiter: RateLimiter
    auth_failures: RateLimiter
    keys: dict[str, str]
    budget: TokenBudget
    scorer: Scorer | None  # None: answers are not scored online (the evaluation's own judge server)
    lengths: Lengths = field(default_factory=Lengths)
    watcher: Watcher | None = None
    tracer: Tracer | None = None  # None: no MLflow traces (a server without a registry, or sample_ratio 0)
    retriever: Retriever | None = None  # None: no retrieval (serving.retrieval.top_k 0)
    cache: AnswerCache | None = None  # None: no semantic answer cache (serving.cache.enabled false)
    embed: Callable[[list[str]], np.ndarray] | None = None  # the query encoder of retrieval and the cache
    prompt: Prompt = field(default_factory=shipped)  # what retrieved chunks are rendered with
    prompt_source: Callable[[], PromptRef | None] | None = None  # the registry's @alias version; None: shipped text
    index_source: Callable[[str], str | None] | None = None  # the index version a model version passed the gate on
    last_purge: float = 0.0

    @property
    def loaded(self) -> Loaded | None:
        return self.engine.current

    def start(self) -> None:
        self.engine.start()
        if self.watcher:
            self.watcher.start()
        if self.tracer:
            self.tracer.start()
        self.purge_if_due()

    def every_poll(self) -> None:
        self.refresh_prompt()
        self.refresh_index()
        self.purge_if_due()

    def refresh_index(self) -> None:
        """Retrieve from the index version the model being served passed the gate on: a rebuilt index serves once
        `llmops deploy` has decided on it (tasks/knowledge/retrieve.py); a registry error keeps the one serving."""
        if self.index_source is None or self.retriever is None or self.engine.current is None:
            return
        try:
            self.retriever.follow(self.index_source(self.engine.current.version))
        except Exception as err:
            log.error("index: keeping version %s: %s", self.retriever.version, err)

    def refresh_prompt(self) -> None:
        """Render with the version the prompt's alias names now: a prompt deploy reaches the server within a poll,
        without a restart. Where the registry has none, the shipped text; a registry error keeps the current one."""
        if self.prompt_source is None:
            return
        try:
            ref = self.prompt_source()
        except Exception as err:
            log.error("context prompt: keeping version %s: %s", self.prompt.version, err)
            return
        if ref is None:
            if self.prompt != (fallback := shipped()):
                log.warning("context prompt: its alias is gone; rendering the shipped text (%s)", fallback.version)
                self.prompt = fallback
        elif ref.version != self.prompt.version:
            log.info("context prompt: %s version %s (was %s)", ref.name, ref.version, self.prompt.version)
            self.prompt = Prompt(ref.template, ref.version)
        self.metrics.prompt(self.prompt.version)

    def purge_if_due(self) -> None:
        if time.monotonic() - self.last_purge < PURGE_EVERY_S and self.last_purge:
            return
        self.last_purge = time.monotonic()
        if self.tracer:
            self.tracer.purge(self.params.retention_days)
        purged = self.log.purge()
        if purged:
            log.info("request log: %d requests older than %s days deleted", purged, self.params.retention_days)

    def stop(self) -> None:
        if self.watcher:
            self.watcher.stop()
        self.engine.stop()
        if self.tracer:
            self.tracer.close()
        self.log.close()

    def on_model(self, loaded: Loaded | None, error: str | None) -> None:
        if loaded is not None:
            self.metrics.serving(loaded.name, loaded.version)
            self.refresh_index()  # the index the new version passed on, from its first answer's poll
        if error is not None:
            self.metrics.model_load_failures.inc()


def _retriever(s: ServingParams, index: IndexParams, root: Path, embed) -> Retriever | None:
    if not s.retrieval.top_k:
        return None
    uri = index.uri if "://" in index.uri else str(root / index.uri)
    r = s.retrieval
    return Retriever(uri, index.table, embed, r.refresh_s, r.nprobes, r.refine_factor)


def assemble(s: ServingParams, model_name: str, root: Path = Path("."), score_answers: bool = True,
             index: IndexParams | None = None) -> Service:  # fmt: skip
    """Every part but the registry: no model yet (the watcher, or a test, swaps one in)."""
    from tasks.models import embeddings

    if s.retrieval.top_k or s.cache.enabled:
        embeddings.ready()
    engine: Engine = (
        LlamaCppEngine(s.max_batch, s.max_queue)
        if s.engine == "llamacpp"
        else TransformersEngine(s.max_batch, s.batch_wait_ms, s.max_queue)
    )
    request_log = RequestLog(url_of(s), s.retention_days)
    service = Service(
        params=s,
        model_name=model_name,
        engine=engine,
        guard=load_guard(s.guard, root, embeddings.embed),
        log=request_log,
        metrics=Metrics(),
        limiter=RateLimiter(s.rate_limit_per_minute, s.rate_limit_burst),
        auth_failures=RateLimiter(s.auth_failures_per_minute, s.auth_failures_per_minute),
        keys=read_keys(s.api_keys_env),
        budget=TokenBudget(s.daily_tokens_per_key, request_log.tokens_since),
        scorer=load_scorer(root / s.probes) if score_answers else None,
        retriever=_retriever(s, index or IndexParams(), root, embeddings.embed),
        cache=AnswerCache(s.cache.similarity, s.cache.max_entries, s.cache.ttl_s) if s.cache.enabled else None,
        embed=embeddings.embed,
    )
    engine.on_batch = service.metrics.batch
    return service


def load_dir(model_dir: Path, name: str, version: str, s: ServingParams, dtype: torch.dtype | None = None) -> Loaded:
    """A model folder from disk, not the registry, for the engine `s.engine` names: the offline judge, the bench
    and the tests serve one this way."""
    if s.engine == "llamacpp":
        return load_gguf(model_dir, name, version, s)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, **({"dtype": dtype} if dtype else {})).eval()
    return Loaded(name, version, model, AutoTokenizer.from_pretrained(model_dir))


def build(params: Params, client=None, root: Path = Path(".")) -> Service:
    """A service for the registry's alias, which it loads once started; fails with ModelSourceError when the alias
    does not exist."""
    from tasks.registry.store import approved_index, connect

    service = assemble(params.serving, params.registry.model_name, root, index=params.index)
    if params.serving.engine == "llamacpp":
        load = partial(load_gguf_version, serving=params.serving)
    else:
        load = partial(load_version, dtype=inference_dtype(params.model.inference_dtype))
    service.watcher = Watcher(
        client or connect(params),
        params.registry.model_name,
        params.registry.alias,
        service.engine,
        params.serving.poll_s,
        load=load,
        on_change=service.on_model,
        every_poll=service.every_poll,
    )
    if service.retriever is not None:
        name = prompts.context_prompt(params.registry.model_name)
        service.prompt_source = partial(prompts.load, service.watcher.client, name, params.registry.alias)
        service.refresh_prompt()
        service.index_source = partial(approved_index, service.watcher.client, params.registry.model_name)
        if service.prompt == shipped():
            log.warning("context prompt: %s@%s is not in the registry (a champion trained before prompts were "
                        "registered); rendering the shipped text (%s)", name, params.registry.alias,
                        service.prompt.version)  # fmt: skip
    if params.serving.tracing.sample_ratio > 0:
        service.tracer = Tracer(params.serving.tracing, service.metrics.traced)
    try:
        service.watcher.resolve()
    except Exception:
        service.log.close()
        raise
    return service
