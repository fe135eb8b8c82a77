"""Every sampled request as an MLflow trace, and feedback on it as an assessment, written off the request path.

A completion call notes when each of its steps began and ended (input guard, prompt, queue, generation, output
guard, request log) and, once logged, hands a `Record` to the `Tracer`. The tracer's process redacts PII the way
the request log does and turns it into a trace with those timestamps: the trace's session is the conversation,
its user the API key, its client request id the request id the response carried (x-request-id), so the request
log and the traces share one id. `/feedback` queues behind the traces, so a rating finds the trace it rates even
while that is still being exported. Traces older than the request log's retention are deleted with its rows.

Reviewers find traces in the MLflow UI or with `mlflow.search_traces` (docs/monitoring.md):
    metadata.`mlflow.trace.session` = 'conv-42'     one conversation
    metadata.model_version = '3'                    one model version
    feedback.rating < 0                          the answers people rated down
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tasks.config.schema import TracingParams
from tasks.data.pii import scrub
from tasks.monitoring.feedback import CORRECTIONS, FEEDBACK_ID, RATING

log = logging.getLogger(__name__)

PREVIEW_CHARS = 1000


@dataclass(frozen=True)
class Step:
    name: str
    span_type: str  # mlflow.entities.SpanType
    start: float  # time.perf_counter()
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """One request as the completion call saw it; times are perf_counter readings, `started_ns` the wall clock at
    `started`."""

    request_id: str
    endpoint: str
    started_ns: int
    started: float
    ended: float
    status: int
    messages: list[dict[str, str]]
    completion: str | None
    conversation_id: str
    user: str | None
    metadata: dict[str, str]  # searchable: model_version, endpoint, status
    attributes: dict[str, Any]
    steps: list[Step]
    error: str | None = None


@dataclass(frozen=True)
class Feedback:
    request_id: str
    reviewer: str
    rating: int | None
    correction: str | None
    comment: str | None
    feedback_id: int | None = None  # its row in the request log: the feedback export then counts it once


@dataclass(frozen=True)
class Purge:
    """Delete traces that started before this (ms since the epoch): the request log's retention, applied here."""

    before_ms: int
    request_id: str = "purge"


def sampled(request_id: str, ratio: float) -> bool:
    """Decided by the request id, so every process (and a replay of the id) agrees on it."""
    return ratio >= 1 or zlib.crc32(request_id.encode()) < ratio * 2**32


class Tracer:
    """A bounded queue to a process of its own that writes traces and assessments to MLflow; `close` flushes it.

    A process, not a thread: building spans and MLflow's export are Python work, and in the server's process they
    would take the GIL from the engine's decode loop (measured: 16 clients lost 6-16 % of their tokens/s).
    """

    def __init__(self, params: TracingParams, counted: Callable[[str], None]) -> None:
        import multiprocessing

        self.params = params
        self.counted = counted  # by outcome: trace_logged, trace_failed, feedback_logged, feedback_failed, dropped
        self._context = multiprocessing.get_context("spawn")
        self._inbox = self._context.Queue(params.queue)
        self._outcomes = self._context.Queue()
        self._process = None
        self._relay = threading.Thread(target=self._count, name="llmops-tracer-outcomes", daemon=True)

    def start(self) -> None:
        """The writer writes where MLflow's tracking URI points in this process now; the experiment is made here,
        so that it exists (and a reviewer can open it) from the server's start."""
        import mlflow

        try:
            _Writer(self.params).experiment()
        except Exception as err:  # the store is unreachable now: the writer tries again with each trace
            log.warning("MLflow experiment %r for traces: %s", self.params.experiment, err)
        args = (self._inbox, self._outcomes, self.params, mlflow.get_tracking_uri())
        self._process = self._context.Process(target=_serve, args=args, name="llmops-tracer", daemon=True)
        self._process.start()
        self._relay.start()

    def submit(self, record: Record) -> None:
        if not sampled(record.request_id, self.params.sample_ratio):
            return
        self._put(record)

    def feedback(self, item: Feedback) -> None:
        if sampled(item.request_id, self.params.sample_ratio):
            self._put(item)

    def purge(self, retention_days: float) -> None:
        self._put(Purge(int((time.time() - retention_days * 86400) * 1000)))

    def _put(self, item: Record | Feedback | Purge) -> None:
        try:
            if self._inbox is None:  # closed: the server is stopping
                raise queue.Full
            self._inbox.put_nowait(item)
        except queue.Full:
            self.counted("dropped")

    def close(self, timeout_s: float = 60.0) -> None:
        """Write what is queued, and MLflow's own export queue, then stop the writer."""
        if self._process is None:
            return
        self._inbox.put(_STOP)
        self._process.join(timeout_s)
        if self._process.is_alive():
            log.warning("the trace writer did not finish within %.0f s; traces still queued are lost", timeout_s)
            self._process.kill()
        self._outcomes.put(_STOP)
        self._relay.join(5)
        for channel in (self._inbox, self._outcomes):
            channel.close()
            channel.join_thread()
        self._process = self._inbox = self._outcomes = None  # their semaphores are unlinked when collected

    def _count(self) -> None:
        while (outcome := self._outcomes.get()) != _STOP:
            self.counted(outcome)


_STOP = "stop"


def _serve(inbox, outcomes, params: TracingParams, tracking_uri: str) -> None:
    """The writer process: one item at a time, each outcome reported back; MLflow's export flushed at the end."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    writer = _Writer(params)
    while (item := inbox.get()) != _STOP:
        kind = {Record: "trace", Feedback: "feedback", Purge: "purge"}[type(item)]
        try:
            if isinstance(item, Purge):
                writer.purge(item)
                continue
            writer.write(item) if isinstance(item, Record) else writer.assess(item)
            outcomes.put(f"{kind}_logged")
        except Exception as err:  # the store is down or refused: the request was served, count and go on
            log.warning("%s of request %s not written to MLflow: %s", kind, item.request_id, err)
            outcomes.put(f"{kind}_failed")
    mlflow.flush_trace_async_logging()


class _Writer:
    def __init__(self, params: TracingParams) -> None:
        self.params = params
        self._experiment_id: str | None = None

    def purge(self, item: Purge) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.flush_trace_async_logging()  # a trace still in the export queue would escape
        deleted = MlflowClient().delete_traces(self.experiment(), max_timestamp_millis=item.before_ms)
        if deleted:
            log.info("traces: %d older than the request log's retention deleted", deleted)

    def experiment(self) -> str:
        if self._experiment_id is None:
            from mlflow.tracking import MlflowClient

            client = MlflowClient()
            found = client.get_experiment_by_name(self.params.experiment)
            self._experiment_id = found.experiment_id if found else client.create_experiment(self.params.experiment)
        return self._experiment_id

    def write(self, record: Record) -> None:
        import mlflow
        from mlflow.tracing.provider import detach_span_from_context, set_span_in_context

        r = _redacted(record)

        def ns(t: float) -> int:
            return r.started_ns + int((t - r.started) * 1e9)

        root = mlflow.start_span_no_context(
            r.endpoint, span_type="CHAT_MODEL", inputs={"messages": r.messages}, attributes=r.attributes,
            experiment_id=self.experiment(), start_time_ns=r.started_ns,
        )  # fmt: skip
        for step in r.steps:
            span = mlflow.start_span_no_context(step.name, span_type=step.span_type, parent_span=root,
                                                attributes=step.attributes, start_time_ns=ns(step.start))  # fmt: skip
            span.end(end_time_ns=ns(max(step.end, step.start)))
        token = set_span_in_context(root)
        try:
            mlflow.update_current_trace(
                client_request_id=r.request_id, session_id=r.conversation_id, user=r.user, metadata=r.metadata,
                request_preview=_last_user_turn(r.messages), response_preview=(r.completion or "")[:PREVIEW_CHARS],
                state="OK" if r.status < 400 else "ERROR",
            )  # fmt: skip
        finally:
            detach_span_from_context(token)
        if r.error:
            root.set_attribute("error", r.error)
        root.set_outputs({"completion": r.completion, "status": r.status})
        root.end(end_time_ns=ns(r.ended))

    def assess(self, f: Feedback) -> None:
        import mlflow
        from mlflow.entities import AssessmentSource

        trace_id = self._trace_of(f.request_id)
        if trace_id is None:
            raise LookupError("no trace with this client request id")
        source = AssessmentSource(source_type="HUMAN", source_id=f.reviewer)
        comment = scrub(f.comment) if f.comment else None
        logged = {FEEDBACK_ID: str(f.feedback_id)} if f.feedback_id is not None else None
        if f.rating is not None:
            mlflow.log_feedback(trace_id=trace_id, name=RATING, value=f.rating, source=source, rationale=comment,
                                metadata=logged)  # fmt: skip
        if f.correction:
            mlflow.log_expectation(trace_id=trace_id, name=CORRECTIONS[0], value=scrub(f.correction), source=source,
                                   metadata=logged)  # fmt: skip

    def _trace_of(self, request_id: str) -> str | None:
        import mlflow

        if not request_id.replace("-", "").replace("_", "").isalnum():  # ids this server issued, nothing to quote
            return None
        where = f"trace.client_request_id = '{request_id}'"
        for flush in (False, True):  # not found: it may still be in MLflow's export queue
            found = mlflow.search_traces(locations=[self.experiment()], filter_string=where, max_results=1,
                                         return_type="list", include_spans=False, flush=flush)  # fmt: skip
            if found:
                return found[0].info.trace_id
        return None


def _redacted(r: Record) -> Record:
    """What the request log would store: message, completion and metadata values PII-redacted."""
    attributes = dict(r.attributes)
    if attributes.get("request_metadata"):
        attributes["request_metadata"] = {k: scrub(str(v)) for k, v in attributes["request_metadata"].items()}
    return replace(r, messages=[{**m, "content": scrub(m.get("content") or "")} for m in r.messages],
                   completion=None if r.completion is None else scrub(r.completion), attributes=attributes)  # fmt: skip


def _last_user_turn(messages: list[dict[str, str]]) -> str:
    turns = [m.get("content") or "" for m in messages if m.get("role") == "user"]
    return (turns[-1] if turns else "")[:PREVIEW_CHARS]


def step(name: str, span_type: str, start: float, **attributes: Any) -> Step:
    """A step that ends now."""
    return Step(name, span_type, start, time.perf_counter(), attributes)
