"""The engines behind the gateway, and the transformers one: concurrent requests share one `generate` call, and
each still streams its tokens.

Every engine takes `Job`s (prompt token ids, budget, stops) and answers on each job's event queue: ("start",
version), ("delta", text)..., then ("done", version) or ("error", exception). `serving.engine` picks one.

One worker thread owns the model. It takes whatever requests are queued (waiting up to `batch_wait_ms` for more,
up to `max_batch`), left-pads them into one batch, and generates. A streamer splits every step's tokens back to
the requests, which stop on their own EOS, stop string or token budget. The model a batch uses is read at the
start of the batch, so swapping in a new champion never interrupts a request in flight.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One registry version in memory."""

    name: str
    version: str
    model: Any
    tokenizer: Any

    @property
    def label(self) -> str:
        return f"{self.name}/v{self.version}"


class QueueFullError(Exception):
    """More requests are waiting than `serving.max_queue`."""


@dataclass
class Job:
    prompt_ids: list[int]
    max_new_tokens: int
    temperature: float
    stop: list[str]
    loop: asyncio.AbstractEventLoop
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    sent: int = 0
    finish_reason: str | None = None
    queued_at: float = field(default_factory=time.perf_counter)
    started_at: float = 0.0
    first_token_at: float = 0.0
    cancelled: bool = False  # the client went away: its row stops at the next step, a queued job never starts
    counted: int | None = None  # an engine that reports how many tokens it generated rather than their ids

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens) if self.counted is None else self.counted

    def emit(self, kind: str, value: Any = None) -> None:
        self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))


def encode_chat(tokenizer, messages: list[dict[str, str]]) -> list[int]:
    return tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=False)


def encode_text(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=True)["input_ids"]


class _Splitter(BaseStreamer, StoppingCriteria):
    """Receives each generation step's tokens for the whole batch and hands them to their jobs."""

    def __init__(self, jobs: list[Job], tokenizer) -> None:
        self.jobs = jobs
        self.tokenizer = tokenizer
        self.eos = set(_eos_ids(tokenizer))
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for job, token in zip(self.jobs, value.reshape(-1).tolist(), strict=True):
            if job.finish_reason is None and job.cancelled:
                job.finish_reason = "cancelled"
            elif job.finish_reason is None:
                self._advance(job, token)

    def _advance(self, job: Job, token: int) -> None:
        if token in self.eos:
            self._finish(job, "stop")
            return
        if not job.tokens:
            job.first_token_at = time.perf_counter()
        job.tokens.append(token)
        job.text = self.tokenizer.decode(job.tokens, skip_special_tokens=True)
        cut = min((i for i in (job.text.find(s) for s in job.stop) if i >= 0), default=-1)
        if cut >= 0:
            job.text = job.text[:cut]
            self._finish(job, "stop")
        elif len(job.tokens) >= job.max_new_tokens:
            self._finish(job, "length")
        elif not job.text.endswith("\ufffd"):  # hold back a half-decoded character
            self._send(job)

    def _send(self, job: Job) -> None:
        stop = max((len(s) - 1 for s in job.stop), default=0)  # a stop string may be arriving
        upto = max(job.sent, len(job.text) - stop)
        if upto > job.sent:
            job.emit("delta", job.text[job.sent : upto])
            job.sent = upto

    def _finish(self, job: Job, reason: str) -> None:
        job.finish_reason = reason
        if len(job.text) > job.sent:
            job.emit("delta", job.text[job.sent :])
            job.sent = len(job.text)

    def end(self) -> None:
        for job in self.jobs:
            if job.finish_reason is None:
                self._finish(job, "length")

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        """Stopping criterion: a row is done once its job is, and the batch ends when every job has."""
        return torch.tensor([j.finish_reason is not None for j in self.jobs], device=input_ids.device)


def _eos_ids(tokenizer) -> list[int]:
    return [i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None]


class Engine(Protocol):
    current: Loaded | None
    on_batch: Any  # callback(requests generating together, queue depth) for metrics

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def swap(self, loaded: Loaded) -> None: ...
    def submit(self, job: Job) -> None: ...
    def warm_up(self, loaded: Loaded) -> None: ...
    @property
    def depth(self) -> int: ...


class TransformersEngine:
    def __init__(self, max_batch: int, batch_wait_ms: float, max_queue: int) -> None:
        self.max_batch = max_batch
        self.batch_wait = batch_wait_ms / 1000
        self.max_queue = max_queue
        self.current: Loaded | None = None
        self.on_batch = None  # callback(batch size, queue depth) for metrics
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._held: deque[Job] = deque()
        self._thread = threading.Thread(target=self._run, name="generate", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)

    def swap(self, loaded: Loaded) -> None:
        """The next batch uses `loaded`; batches already generating finish on the old model."""
        self.current = loaded

    @property
    def depth(self) -> int:
        return self._queue.qsize() + len(self._held)

    def warm_up(self, loaded: Loaded) -> None:
        """One short generation, so the first request after a swap does not pay for lazy initialisation."""
        ids = loaded.tokenizer("hello", return_tensors="pt")
        with torch.inference_mode():
            loaded.model.generate(**ids, max_new_tokens=2, do_sample=False, pad_token_id=loaded.tokenizer.eos_token_id)

    def submit(self, job: Job) -> None:
        if self.depth >= self.max_queue:
            raise QueueFullError(f"{self.depth} requests are already waiting")
        self._queue.put(job)

    def _next_batch(self) -> list[Job] | None:
        first = self._held.popleft() if self._held else self._queue.get()
        if first is None:
            return None
        batch, deadline = [first], time.perf_counter() + self.batch_wait
        sampled = first.temperature > 0
        while len(batch) < self.max_batch:
            try:
                wait = max(0.0, deadline - time.perf_counter())
                job = self._held.popleft() if self._held else self._queue.get(timeout=wait)
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)
                break
            if (job.temperature > 0) == sampled:  # one generate call is either greedy or sampled
                batch.append(job)
            else:
                self._held.append(job)
                break
        return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            for job in [j for j in batch if j.cancelled]:
                job.finish_reason = "cancelled"
                job.emit("done", None)
            if not (batch := [j for j in batch if not j.cancelled]):
                continue
            loaded = self.current
            try:
                self._generate(loaded, batch)
            except Exception as err:
                log.exception("generation failed for a batch of %d", len(batch))
                for job in batch:
                    job.emit("error", err)
                continue
            for job in batch:
                job.emit("done", loaded.version)

    def _generate(self, loaded: Loaded, batch: list[Job]) -> None:
        if self.on_batch:
            self.on_batch(len(batch), self.depth)
        tok = loaded.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        width = max(len(j.prompt_ids) for j in batch)
        ids = torch.tensor([[pad] * (width - len(j.prompt_ids)) + j.prompt_ids for j in batch])
        mask = torch.tensor([[0] * (width - len(j.prompt_ids)) + [1] * len(j.prompt_ids) for j in batch])
        splitter = _Splitter(batch, tok)
        now = time.perf_counter()
        for job in batch:
            job.started_at = now
            job.emit("start", loaded.version)
        temperature = max(j.temperature for j in batch)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with torch.inference_mode():
            loaded.model.generate(
                input_ids=ids.to(loaded.model.device),
                attention_mask=mask.to(loaded.model.device),
                max_new_tokens=max(j.max_new_tokens for j in batch),
                pad_token_id=pad,
                streamer=splitter,
                stopping_criteria=StoppingCriteriaList([splitter]),
                top_p=None,
                top_k=None,
                **sampling,
            )
        splitter.end()
