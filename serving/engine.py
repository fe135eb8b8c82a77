"""What every engine behind the gateway shares: the loaded model, the job, the engine's interface, prompt encoding.

Every engine takes `Job`s (prompt token ids, budget, stops) and answers on each job's event queue: ("start",
version), ("delta", text)..., then ("done", version) or ("error", exception). `serving.engine` picks one:
serving/transformers_engine.py or serving/gguf_engine.py.
"""

from __future__ import annotations

import asyncio
import queue
import time
from dataclasses import dataclass, field
from typing import Any, Protocol


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


class QueuedEngine:
    """The queue every engine keeps in front of its model: beyond `max_queue` waiting jobs, `submit` refuses."""

    def __init__(self, max_queue: int) -> None:
        self.max_queue = max_queue
        self.current: Loaded | None = None
        self.on_batch = None  # callback(requests generating together, queue depth) for metrics
        self._queue: queue.Queue[Job | None] = queue.Queue()

    def swap(self, loaded: Loaded) -> None:
        """Jobs from now on use `loaded`; those generating finish on the model they started with."""
        self.current = loaded

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def submit(self, job: Job) -> None:
        if self.depth >= self.max_queue:
            raise QueueFullError(f"{self.depth} requests are already waiting")
        self._queue.put(job)
