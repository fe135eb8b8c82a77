"""One completion request from admission (model, guard, limits) through generation to its log entry."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import numpy as np
import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from serving.engine import Job, QueueFullError
from serving.errors import ApiError, error_body
from serving.schemas import _Sampling
from serving.service import Service
from serving.tracing import Record, Step, step
from tasks.guard.output_guard import ScreenedReply, StreamScreen, screen_reply
from tasks.knowledge.answer_cache import Cached, Hit, numbers
from tasks.knowledge.context import with_context
from tasks.knowledge.retrieve import query_text
from tasks.monitoring.request_log import Entry
from tasks.monitoring.response_scores import FLAGS, score

CLIENT_GONE = 499  # nginx's "client closed request": logged, never seen by the client


async def _disconnected(request: Request, every_s: float = 0.1) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(every_s)


class CompletionCall:
    """One completion request from admission (model, guard, limits) to its log entry."""

    def __init__(self, service: Service, body: _Sampling, request: Request, kid: str, endpoint: str,
                 messages: list[dict[str, str]]) -> None:  # fmt: skip
        self.service, self.body, self.endpoint = service, body, endpoint
        self.started, self.started_ns = time.perf_counter(), time.time_ns()
        self.prefix = "chatcmpl" if endpoint == "chat" else "cmpl"
        self.id = f"{self.prefix}-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.conversation = body.conversation_id() or request.headers.get("x-conversation-id") or uuid.uuid4().hex
        self.entry = Entry(id=self.id, endpoint=endpoint, messages=messages, status=200, api_key_id=kid,
                           conversation_id=self.conversation, end_user=body.user,
                           request_metadata=body.metadata)  # fmt: skip
        self.timing: dict[str, float] = {}
        self.suspects: list[str] = []  # from the input guard, for the output guard
        self.served: list[str] = []  # the replies as the output guard let them out
        self.steps: list[Step] = []  # what the trace shows (serving/tracing.py)
        self.finish_reasons: list[str] = []
        self.cost = 0.0
        self.flags: list[dict[str, Any]] = []  # online scores of each answer
        self.sources: list[dict[str, Any]] = []  # the knowledge base chunks the prompt carried
        self.given: str | None = None  # with retrieval: the text the model was given, to check its facts against
        self.cache_key: tuple[str, ...] | None = None  # set when the request may be answered from the cache
        self.cache_vector: np.ndarray | None = None
        self.cache_hit: Hit | None = None
        self.request = request
        request.state.request_id = self.id  # every response answers with it (the middleware's x-request-id)

    def fail(self, err: ApiError) -> ApiError:
        """Log a refused or failed request; its id goes back in x-request-id, so it can be rated too."""
        self.entry.status, self.entry.error = err.status, err.message
        self.finish()
        return err

    async def admit(self, encode, max_completion_tokens: int | None) -> list[Job]:
        s, body = self.service, self.body
        if body.model != s.model_name:
            raise self.fail(ApiError(404, f"model {body.model!r} does not exist; this server serves {s.model_name!r}",
                                     "model_not_found", "model"))  # fmt: skip
        loaded = s.loaded
        if loaded is None:
            raise self.fail(ApiError(503, "no model loaded yet", "not_ready"))
        kid = self.entry.api_key_id or ""
        if s.budget.per_day and await run_in_threadpool(s.budget.spent, kid):  # it may read the request log
            s.metrics.budget_refusals.labels(kid).inc()
            raise self.fail(ApiError(429, f"this API key's daily budget of {s.params.daily_tokens_per_key} tokens is "
                                     "spent (serving.daily_tokens_per_key); it renews at 00:00 UTC",
                                     "insufficient_quota"))  # fmt: skip
        max_tokens = max_completion_tokens or body.max_tokens or s.params.default_max_tokens
        self.max_tokens = max_tokens
        if max_tokens > s.params.max_new_tokens:
            raise self.fail(ApiError(400, f"max_tokens: at most {s.params.max_new_tokens} (serving.max_new_tokens)",
                                     "invalid_request", "max_tokens"))  # fmt: skip
        t0 = time.perf_counter()
        screened = await run_in_threadpool(s.guard.screen, self.entry.messages)
        self.timing["guard"] = time.perf_counter() - t0
        self.steps.append(step("input_guard", "GUARDRAIL", t0, **screened.verdicts,
                               blocked=screened.blocked or "", category=screened.category or ""))  # fmt: skip
        self.entry.guard = screened.verdicts
        self.suspects = screened.suspects
        for check, verdict in screened.verdicts.items():
            s.metrics.guard.labels(check, verdict).inc()
        if screened.blocked:
            s.metrics.blocks.labels(screened.category or "unknown").inc()
            raise self.fail(ApiError(400, f"blocked by the input guard: {screened.blocked}", "content_policy"))
        messages = screened.messages
        vector = None
        if s.cache is not None:
            vector = await run_in_threadpool(self._cache_lookup, screened, loaded.version)
            if self.cache_hit is not None:
                return []
        if s.retriever is not None and self.endpoint == "chat":
            messages = await run_in_threadpool(self._retrieve, messages, vector)
        t1 = time.perf_counter()
        prompts = await run_in_threadpool(encode, loaded.tokenizer, messages)
        prompt_tokens = sum(len(p) for p in prompts)
        self.steps.append(step("prompt", "PARSER", t1, prompt_tokens=prompt_tokens))
        longest = max(len(p) for p in prompts)
        if longest > s.params.max_input_tokens:
            raise self.fail(ApiError(400, f"the prompt has {longest} tokens; at most {s.params.max_input_tokens} "
                                     "(serving.max_input_tokens)", "context_length_exceeded", "messages"))  # fmt: skip
        self.entry.prompt_tokens = prompt_tokens
        loop = asyncio.get_running_loop()
        jobs = [Job(p, max_tokens, body.temperature, body.stops(), loop) for p in prompts]
        try:
            for job in jobs:
                s.engine.submit(job)
        except QueueFullError as err:
            raise self.fail(ApiError(503, f"the server is at capacity ({err}); retry shortly", "overloaded",
                                     **{"retry-after": "1"})) from None  # fmt: skip
        return jobs

    def _cacheable(self, screened) -> str | None:
        """The question when one earlier answer fits every asker: one user turn (beside a system message), no
        personal data, no injection suspicion, greedy and not streamed."""
        body, messages = self.body, screened.messages
        users = [m for m in messages if m["role"] == "user"]
        if self.endpoint != "chat" or body.stream or body.temperature > 0 or len(users) != 1:
            return None
        if any(m["role"] not in ("user", "system") for m in messages) or screened.pii or screened.suspects:
            return None
        return users[0]["content"]

    def _cache_lookup(self, screened, version: str) -> np.ndarray | None:
        """Under the key of everything that shapes the answer (model, prompt, index, system message, the
        question's numbers), the most similar earlier question's answer, if similar enough; the question's
        embedding, which retrieval reuses."""
        s = self.service
        question = self._cacheable(screened)
        if question is None:
            s.metrics.cache.labels("skip").inc()
            return None
        t0 = time.perf_counter()
        vector = s.embed([question])[0]
        system = "\n".join(m["content"] for m in screened.messages if m["role"] == "system")
        index = s.retriever.version if s.retriever is not None else ""
        stops = "\x00".join(self.body.stops() or [])
        self.cache_key = (version, s.prompt.version, index, system, stops, ",".join(sorted(numbers(question))))
        self.cache_vector = vector
        hit = s.cache.lookup(self.cache_key, vector)
        self.timing["cache"] = time.perf_counter() - t0
        if hit is not None and hit.entry.completion_tokens > self.max_tokens:
            hit = None  # it was longer than this request allows
        self.cache_hit = hit
        s.metrics.cache.labels("hit" if hit else "miss").inc()
        self.steps.append(step("cache", "RETRIEVER", t0, hit=bool(hit),
                               similarity=round(hit.similarity, 4) if hit else 0.0))  # fmt: skip
        return vector if query_text(screened.messages, s.params.retrieval.query_turns) == question else None

    def from_cache(self) -> JSONResponse:
        """The earlier answer, screened again against this conversation, logged and counted like a generation."""
        hit, s = self.cache_hit, self.service
        version = self.cache_key[0]
        entry = hit.entry
        t0 = time.perf_counter()
        reply = screen_reply(entry.answer, self.entry.messages, self.suspects, s.params.guard)
        self._screened([reply], t0)
        self.sources = entry.extra.get("sources", [])
        self.entry.sources = self.sources or None
        self.entry.index_version = self.cache_key[2] or None
        self.entry.prompt_version = self.cache_key[1] if s.retriever is not None else None
        self.entry.model_version, self.entry.completion = version, "\n".join(self.served)
        self.entry.completion_tokens, self.finish_reasons = entry.completion_tokens, ["stop"]
        s.metrics.cache_saved.inc(entry.generation_s)
        self.finish()
        choice = self._choice(0, self.served[0], "stop", delta=False)
        usage = {"prompt_tokens": 0, "completion_tokens": entry.completion_tokens,
                 "total_tokens": entry.completion_tokens}  # fmt: skip
        cache = {"hit": True, "similarity": round(hit.similarity, 4), "request_id": entry.request_id}
        body = {**self._envelope(version, [choice], streamed=False), "usage": usage, "cache": cache}
        if s.retriever is not None:
            body["sources"] = self.sources
        return JSONResponse(body, headers=self.headers(version))

    def _remember(self, jobs: list[Job], replies: list[ScreenedReply], version: str) -> None:
        """A finished, unmasked answer to a cacheable question, for the next question that means the same; under
        the version that generated it (a hot swap may have come between admission and generation)."""
        if self.cache_key is None or len(jobs) != 1 or jobs[0].finish_reason != "stop" or replies[0].action != "pass":
            return
        if not replies[0].text.strip():
            return
        entry = Cached(replies[0].text, self.id, jobs[0].completion_tokens, self.timing.get("generate", 0.0),
                       {"sources": self.sources})  # fmt: skip
        self.service.cache.add((version, *self.cache_key[1:]), self.cache_vector, entry)

    def _retrieve(self, messages: list[dict[str, str]], vector: np.ndarray | None) -> list[dict[str, str]]:
        """The help centre's top chunks for the conversation (already screened: no PII reaches the index), before
        it; their ids, titles and scores go to the response, the log, the trace and /metrics."""
        s, r = self.service, self.service.params.retrieval
        t0 = time.perf_counter()
        if vector is None:
            vector = s.embed([query_text(messages, r.query_turns)])[0]
        s.retriever.refresh_if_due()
        hits = s.retriever.search_vector(vector, r.top_k, r.min_score)
        self.timing["retrieval"] = time.perf_counter() - t0
        s.metrics.retrieval.observe(self.timing["retrieval"])
        s.metrics.retrieved.observe(len(hits))
        self.sources = [h.source() for h in hits]
        prompt = s.prompt  # one version for this request, whatever a poll swaps in meanwhile
        self.entry.sources, self.entry.index_version = self.sources, s.retriever.version
        self.entry.prompt_version = prompt.version
        if self.cache_key is not None:  # remembered under the version that rendered it
            self.cache_key = (self.cache_key[0], prompt.version, *self.cache_key[2:])
        self.steps.append(step("retrieval", "RETRIEVER", t0, chunks=len(hits), index_version=s.retriever.version,
                               prompt_version=prompt.version, sources=",".join(h.id for h in hits)))  # fmt: skip
        grounded = with_context(messages, hits, prompt)
        self.given = " ".join(m["content"] for m in grounded)
        return grounded

    def headers(self, version: str) -> dict[str, str]:
        timing = ", ".join(f"{k};dur={v * 1000:.2f}" for k, v in self.timing.items())
        headers = {"x-request-id": self.id, "x-model-version": version, "x-conversation-id": self.conversation,
                   "server-timing": timing}  # fmt: skip
        if self.cache_key is not None:
            headers["x-cache"] = "hit" if self.cache_hit else "miss"
        if self.service.retriever is not None and self.endpoint == "chat":
            headers["x-index-version"] = self.service.retriever.version
            headers["x-prompt-version"] = self.entry.prompt_version or self.service.prompt.version
            headers["x-sources"] = ", ".join(f"{quote(x['id'], safe='#/')};score={x['score']}" for x in self.sources)
        return headers

    async def _version(self, job: Job) -> str:
        kind, value = await job.events.get()
        if kind == "error":
            raise self.fail(ApiError(500, f"generation failed: {value}", "generation_failed"))
        return value

    def _envelope(self, version: str, choices: list[dict[str, Any]], streamed: bool) -> dict[str, Any]:
        kind = "text_completion" if self.endpoint == "completions" else "chat.completion"
        return {"id": self.id, "object": f"{kind}.chunk" if streamed and self.endpoint == "chat" else kind,
                "created": self.created, "model": self.body.model,
                "system_fingerprint": f"{self.service.model_name}/v{version}", "choices": choices}  # fmt: skip

    def _chunk(self, version: str, choice: dict[str, Any]) -> bytes:
        return b"data: " + orjson.dumps(self._envelope(version, [choice], streamed=True)) + b"\n\n"

    def _choice(self, index: int, text: str | None, finish: str | None, delta: bool) -> dict[str, Any]:
        if self.endpoint == "completions":
            return {"index": index, "text": text or "", "finish_reason": finish, "logprobs": None}
        if delta:
            return {"index": index, "delta": {} if text is None else {"content": text}, "finish_reason": finish}
        return {"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": finish}

    async def stream(self, job: Job) -> StreamingResponse:
        version = await self._version(job)
        self.entry.model_version = version
        return StreamingResponse(self._events(job, version), media_type="text/event-stream",
                                 headers=self.headers(version))  # fmt: skip

    async def _events(self, job: Job, version: str) -> AsyncIterator[bytes]:
        first = True
        screen = StreamScreen(self.entry.messages, self.suspects, self.service.params.guard)

        def delta(text: str) -> bytes:
            nonlocal first
            opening = b""
            if first:
                self.service.metrics.first_token.observe(time.perf_counter() - self.started)
                if self.endpoint == "chat":
                    opening = self._chunk(version, {"index": 0, "delta": {"role": "assistant", "content": ""},
                                                    "finish_reason": None})  # fmt: skip
                first = False
            return opening + self._chunk(version, self._choice(0, text, None, delta=True))

        try:
            while True:
                kind, value = await job.events.get()  # cancelled here when the client closes the stream
                if kind == "delta":
                    if text := screen.feed(value):
                        yield delta(text)
                elif kind == "error":
                    self.entry.status, self.entry.error = 500, str(value)
                    yield b"data: " + orjson.dumps(error_body(500, f"generation failed: {value}", "generation_failed"))
                    yield b"\n\n"
                    return
                else:
                    break
            if text := screen.finish():
                yield delta(text)
            self._screened([screen.result], time.perf_counter())
            yield self._chunk(version, self._choice(0, None, job.finish_reason, delta=True))
            options = self.body.stream_options
            if options and options.include_usage:
                usage = {**self._envelope(version, [], streamed=True), "usage": self._usage([job])}
                yield b"data: " + orjson.dumps(usage) + b"\n\n"
            yield b"data: [DONE]\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            self._client_gone([job])
            raise
        finally:
            self.served = [screen.sent]
            self._complete([job], version)

    def _usage(self, jobs: list[Job]) -> dict[str, int]:
        out = sum(j.completion_tokens for j in jobs)
        prompt = self.entry.prompt_tokens or 0
        return {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}

    async def respond(self, jobs: list[Job]) -> Response:
        """The reply once every job is done, unless the client goes away first: then the jobs stop generating
        (their batch slots free at the next step) and the request is logged as cancelled (499)."""
        work = asyncio.ensure_future(self._reply(jobs))
        gone = asyncio.ensure_future(_disconnected(self.request))
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        if work.done():
            gone.cancel()
            return work.result()
        work.cancel()
        self._client_gone(jobs)
        self.entry.completion_tokens = sum(j.completion_tokens for j in jobs)
        self.finish()
        return Response(status_code=CLIENT_GONE)

    def _client_gone(self, jobs: list[Job]) -> None:
        """Stop the jobs at their next step; the entry says why, /metrics counts it."""
        for job in jobs:
            job.cancelled = True
        self.entry.status, self.entry.error = CLIENT_GONE, "the client disconnected; generation stopped"
        self.service.metrics.cancelled.labels(self.endpoint).inc()

    async def _reply(self, jobs: list[Job]) -> JSONResponse:
        versions = [await self._version(job) for job in jobs]
        for job in jobs:
            kind, value = await job.events.get()
            while kind == "delta":
                kind, value = await job.events.get()
            if kind == "error":
                raise self.fail(ApiError(500, f"generation failed: {value}", "generation_failed"))
        version = versions[-1]
        self.entry.model_version = version
        guard, t0 = self.service.params.guard, time.perf_counter()
        replies = [screen_reply(j.text, self.entry.messages, self.suspects, guard) for j in jobs]
        self._screened(replies, t0)
        self._complete(jobs, version)
        if self.service.cache is not None:
            self._remember(jobs, replies, version)
        pairs = enumerate(zip(jobs, replies, strict=True))
        choices = [self._choice(i, reply.text, job.finish_reason, delta=False) for i, (job, reply) in pairs]
        body = {**self._envelope(version, choices, streamed=False), "usage": self._usage(jobs)}
        if self.service.retriever is not None and self.endpoint == "chat":
            body["sources"] = self.sources
        return JSONResponse(body, headers=self.headers(version))

    def _screened(self, replies: list[ScreenedReply], started: float) -> None:
        """What the output guard did, in /metrics and in the request log, which keeps the reply as served. A
        stream's screen runs as its tokens arrive: its step is the last look, at the end."""
        actions = [r.action for r in replies]
        action = "refuse" if "refuse" in actions else "mask" if "mask" in actions else "pass"
        self.steps.append(step("output_guard", "GUARDRAIL", started, action=action))
        self.entry.guard = {**self.entry.guard, "output": action}
        self.service.metrics.guard.labels("output", action).inc()
        self.served = [r.text for r in replies]

    def _complete(self, jobs: list[Job], version: str) -> None:
        self.entry.model_version = version
        self.entry.completion = "\n".join(self.served)
        self.entry.completion_tokens = sum(j.completion_tokens for j in jobs)
        queued_at, started_at = min(j.queued_at for j in jobs), min(j.started_at for j in jobs)
        self.timing["queue"] = max(0.0, started_at - queued_at)
        self.timing["generate"] = time.perf_counter() - started_at
        self.finish_reasons = [j.finish_reason or "" for j in jobs]
        first = min((j.first_token_at for j in jobs if j.first_token_at), default=0.0)
        ttft_ms = round((first - self.started) * 1000, 2) if first else -1
        self.steps.append(Step("queue", "UNKNOWN", queued_at, started_at, {"jobs": len(jobs)}))
        self.steps.append(step("generate", "LLM", started_at, completion_tokens=self.entry.completion_tokens,
                               finish_reason=",".join(self.finish_reasons),
                               time_to_first_token_ms=ttft_ms))  # fmt: skip
        m, kid = self.service.metrics, self.entry.api_key_id or ""
        tokens_in, tokens_out = self.entry.prompt_tokens or 0, self.entry.completion_tokens
        m.tokens.labels("in").inc(tokens_in)
        m.tokens.labels("out").inc(tokens_out)
        m.key_tokens.labels(kid, "in").inc(tokens_in)
        m.key_tokens.labels(kid, "out").inc(tokens_out)
        price = self.service.params.cost
        self.cost = (tokens_in * price.input_per_1k_tokens + tokens_out * price.output_per_1k_tokens) / 1000 + (
            self.timing["generate"] * price.per_generation_second
        )
        m.cost.labels(kid, version, price.currency).inc(self.cost)
        self.service.budget.add(kid, tokens_in + tokens_out)
        self._score(jobs, version)
        self.finish()

    def _score(self, jobs: list[Job], version: str) -> None:
        """Online flags of each answer as served (tasks/monitoring/response_scores.py), into /metrics and the trace."""
        s = self.service
        if s.scorer is None:
            return
        typical = s.lengths.typical(version)
        for job, reply in zip(jobs, self.served, strict=False):
            flags = score(s.scorer, reply, job.finish_reason, typical, self.given)
            s.lengths.add(version, flags["words"])
            s.metrics.reply_words.labels(version).observe(flags["words"])
            if flags["faithfulness"] is not None:
                s.metrics.faithfulness.labels(version).observe(flags["faithfulness"])
            for flag in FLAGS:
                if flags[flag]:
                    s.metrics.response_flags.labels(flag, version).inc()
            self.flags.append(flags)

    def finish(self) -> None:
        t0 = time.perf_counter()
        self.entry.latency_ms = (t0 - self.started) * 1000
        self.service.log.record(self.entry)
        self.request.state.logged = True
        self.timing["log"] = time.perf_counter() - t0
        self.steps.append(step("request_log", "UNKNOWN", t0))
        if self.service.tracer:
            self.service.tracer.submit(self._record())

    def _record(self) -> Record:
        e = self.entry
        version = e.model_version or ""
        generated = next((s for s in self.steps if s.name == "generate"), None)
        attributes = {
            "model": self.service.model_name, "model_version": version, "request_id": self.id,
            "prompt_tokens": e.prompt_tokens or 0, "completion_tokens": e.completion_tokens or 0,
            "latency_ms": round(e.latency_ms or 0.0, 2), "status": e.status,
            "time_to_first_token_ms": generated.attributes["time_to_first_token_ms"] if generated else -1,
            "finish_reason": ",".join(self.finish_reasons), "guard": dict(e.guard or {}),
            "end_user": self.body.user or "", "request_metadata": dict(self.body.metadata or {}),
            "cost": round(self.cost, 8), "currency": self.service.params.cost.currency,
            "response_flags": [[f for f in FLAGS if flags[f]] for flags in self.flags],
            "faithfulness": [flags["faithfulness"] for flags in self.flags],
        }  # fmt: skip
        metadata = {"model_version": version, "endpoint": self.endpoint, "status": str(e.status)}
        return Record(self.id, f"{self.endpoint}.completions" if self.endpoint == "chat" else self.endpoint,
                      self.started_ns, self.started, time.perf_counter(), e.status, e.messages, e.completion,
                      self.conversation, e.api_key_id, metadata, attributes, self.steps, e.error)  # fmt: skip
