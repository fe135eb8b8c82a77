"""The transformers engine: continuous batching, so requests join the running batch between decode steps and
finished ones leave it.

One worker thread owns the model. When idle it waits for a request (then `batch_wait_ms` for more to prefill
together); while a batch runs, whatever is queued joins it before the next step, up to `max_batch` rows.

The rows of a batch are right-aligned in one KV cache (DynamicCache): a row's left padding is masked out, and
each row carries its own position ids, so rows of any length decode together. Joining requests are prefilled
together, then their cache is left-padded to the batch's length and stacked under it; a finished row is dropped
from the cache, and columns that only padding still fills are trimmed away. A batch keeps the model it started
with: after a swap, new requests wait until the old batch drains, so no request changes model mid-reply.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import torch
import torch.nn.functional as F

from serving.engine import Job, Loaded, QueuedEngine

log = logging.getLogger(__name__)


class Batch:
    """The rows generating together on one model, with their cache and attention mask."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.decoder = Decoder(loaded.tokenizer)
        self.jobs: list[Job] = []
        self.cache = None
        self.mask = torch.zeros(0, 0, dtype=torch.long)
        self.positions = torch.zeros(0, dtype=torch.long)  # the next token's position id, per row
        self.last = torch.zeros(0, dtype=torch.long)  # the token each row decodes next

    def __len__(self) -> int:
        return len(self.jobs)

    @property
    def pad(self) -> int:
        tok = self.loaded.tokenizer
        return tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    def admit(self, jobs: list[Job]) -> torch.Tensor:
        """Prefill `jobs` and stack them under the running rows; returns their first tokens' logits."""
        model = self.loaded.model
        width = max(len(j.prompt_ids) for j in jobs)
        ids = torch.tensor([[self.pad] * (width - len(j.prompt_ids)) + j.prompt_ids for j in jobs])
        mask = torch.tensor([[0] * (width - len(j.prompt_ids)) + [1] * len(j.prompt_ids) for j in jobs])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                    position_ids=positions.to(model.device), use_cache=True, logits_to_keep=1)  # fmt: skip
        if self.cache is None:
            self.cache, self.mask = out.cache, mask
        else:
            self._stack(out.cache, mask)
        self.jobs += jobs
        self.positions = torch.cat([self.positions, mask.sum(-1)])
        return out.logits[:, -1]

    def feed(self, tokens: torch.Tensor) -> None:
        """The tokens just chosen for the last rows (all rows after a step, the joiners after `admit`)."""
        self.last = torch.cat([self.last[: len(self) - len(tokens)], tokens.cpu()])

    def _stack(self, cache, mask: torch.Tensor) -> None:
        length = max(self.mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, length), _left_pad(theirs.keys, length)])
            mine.values = torch.cat([_left_pad(mine.values, length), _left_pad(theirs.values, length)])
        self.mask = torch.cat([F.pad(self.mask, (length - self.mask.shape[1], 0)),
                               F.pad(mask, (length - mask.shape[1], 0))])  # fmt: skip

    def step(self) -> torch.Tensor:
        """Feed every row its `last` token; returns the logits of the token after it."""
        model = self.loaded.model
        self.mask = torch.cat([self.mask, torch.ones(len(self), 1, dtype=torch.long)], dim=1)
        out = model(input_ids=self.last[:, None].to(model.device), attention_mask=self.mask.to(model.device),
                    position_ids=self.positions[:, None].to(model.device), cache=self.cache,
                    use_cache=True, logits_to_keep=1)  # fmt: skip
        self.cache = out.cache
        self.positions = self.positions + 1
        return out.logits[:, -1]

    def keep(self, rows: list[int]) -> None:
        """Drop every other row, then the columns left holding only padding."""
        index = torch.tensor(rows, dtype=torch.long)
        self.jobs = [self.jobs[i] for i in rows]
        self.mask, self.positions, self.last = self.mask[index], self.positions[index], self.last[index]
        used = self.mask.sum(0).nonzero()
        start = int(used[0]) if len(used) else self.mask.shape[1]
        self.mask = self.mask[:, start:]
        for layer in self.cache.layers:
            layer.keys = layer.keys[index.to(layer.keys.device), :, start:]
            layer.values = layer.values[index.to(layer.values.device), :, start:]


def _left_pad(states: torch.Tensor, length: int) -> torch.Tensor:
    return F.pad(states, (0, 0, length - states.shape[-2], 0))


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
        self.eos = {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}

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
