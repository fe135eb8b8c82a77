"""The transformers engine: continuous batching, so requests join the running batch between decode steps and
finished ones leave it.

One worker thread owns the model. When idle it waits for a request (then `batch_wait_ms` for more to prefill
together); while a batch runs, whatever is queued joins it before the next step, up to `max_batch` rows.

The rows of a batch share one KV cache (tasks/models/batching.py, which evaluation generates with too). A batch
keeps the model it started with: after a swap, new requests wait until the old batch drains, so no request
changes model mid-reply.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import torch

from serving.engine import Job, Loaded, QueuedEngine
from tasks.models.batching import Rows, pad_id, stop_ids

log = logging.getLogger(__name__)


class Batch:
    """The jobs generating together on one model, and their rows in its KV cache."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.decoder = Decoder(loaded.tokenizer)
        self.jobs: list[Job] = []
        self.rows = Rows(loaded.model, pad_id(loaded.tokenizer))

    def __len__(self) -> int:
        return len(self.jobs)

    def admit(self, jobs: list[Job]) -> torch.Tensor:
        """Prefill `jobs` and stack them under the running rows; returns their first tokens' logits."""
        logits = self.rows.admit([j.prompt_ids for j in jobs])
        self.jobs += jobs
        return logits

    def feed(self, tokens: torch.Tensor) -> None:
        self.rows.feed(tokens)

    def step(self) -> torch.Tensor:
        return self.rows.step()

    def keep(self, rows: list[int]) -> None:
        self.jobs = [self.jobs[i] for i in rows]
        self.rows.keep(rows)


def choose(logits: torch.Tensor, jobs: list[Job]) -> torch.Tensor:
    """Each row's next token: greedy at temperature 0, else sampled from the whole distribution at its temperature."""
    tokens = logits.argmax(-1)
    for row, job in enumerate(jobs):
        if job.temperature > 0:
            probs = torch.softmax(logits[row].float() / job.temperature, -1)
            tokens[row] = torch.multinomial(probs, 1)[0]
    return tokens


class Decoder:
    """Turns each row's next token into its job's text: EOS, stop strings and the token budget end a job, and the
    text is streamed as it becomes safe to send (never half a character, never the start of a stop string)."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.eos = stop_ids(tokenizer)

    def advance(self, job: Job, token: int) -> None:
        if job.cancelled:
            job.finish_reason = "cancelled"
        else:
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


class TransformersEngine(QueuedEngine):
    def __init__(self, max_batch: int, batch_wait_ms: float, max_queue: int) -> None:
        super().__init__(max_queue)
        self.max_batch = max_batch
        self.batch_wait = batch_wait_ms / 1000
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="generate", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)

    def warm_up(self, loaded: Loaded) -> None:
        """One short generation, so the first request after a swap does not pay for lazy initialisation."""
        ids = loaded.tokenizer("hello", return_tensors="pt")
        with torch.inference_mode():
            loaded.model.generate(**ids, max_new_tokens=2, do_sample=False, pad_token_id=loaded.tokenizer.eos_token_id)

    def _take(self, batch: Batch | None) -> list[Job]:
        """Queued jobs that may join: blocking (then `batch_wait`) when idle, without waiting while a batch runs."""
        room = self.max_batch - (len(batch) if batch else 0)
        if self._stopping or room <= 0 or (batch is not None and batch.loaded is not self.current):
            return []
        jobs: list[Job] = []
        deadline = None
        while len(jobs) < room:
            try:
                if batch is None and not jobs:
                    job = self._queue.get()
                    deadline = time.perf_counter() + self.batch_wait
                elif deadline is not None:
                    job = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
                else:
                    job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._stopping = True
                break
            if job.cancelled:
                job.finish_reason = "cancelled"
                job.emit("done", None)
                continue
            jobs.append(job)
        return jobs

    def _run(self) -> None:
        batch: Batch | None = None
        while not (self._stopping and batch is None):
            joining = self._take(batch)
            if joining and batch is None:
                batch = Batch(self.current)
            try:
                if joining:
                    self._admit(batch, joining)
                if batch is not None and len(batch):
                    self._step(batch)
            except Exception as err:  # the batch's cache may be half-updated: every request in it fails
                failed = {id(job): job for job in (*batch.jobs, *joining)}.values()
                log.exception("generation failed for %d requests", len(failed))
                for job in failed:
                    job.emit("error", err)
                batch = None
                continue
            if batch is not None and not len(batch):
                batch = None

    def _admit(self, batch: Batch, jobs: list[Job]) -> None:
        now = time.perf_counter()
        for job in jobs:
            job.started_at = now
            job.emit("start", batch.loaded.version)
        with torch.inference_mode():
            logits = batch.admit(jobs)
        _decode(batch, jobs, logits)
        if self.on_batch:
            self.on_batch(len(batch), self.depth)
        _retire(batch)

    def _step(self, batch: Batch) -> None:
        with torch.inference_mode():
            logits = batch.step()
        _decode(batch, batch.jobs, logits)
        _retire(batch)


def _decode(batch: Batch, jobs: list[Job], logits: torch.Tensor) -> None:
    """The next token of each of `jobs` (the batch's last rows) chosen, fed back and turned into text."""
    tokens = choose(logits, jobs)
    batch.feed(tokens)
    for job, token in zip(jobs, tokens.tolist(), strict=True):
        batch.decoder.advance(job, token)


def _retire(batch: Batch) -> None:
    """Finished rows leave the batch and their jobs are told."""
    rows = [i for i, job in enumerate(batch.jobs) if job.finish_reason is None]
    if len(rows) == len(batch):
        return
    for job in batch.jobs:
        if job.finish_reason is not None:
            job.emit("done", batch.loaded.version)
    batch.keep(rows)
