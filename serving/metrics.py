"""Prometheus metrics of one server (its own registry, so several apps can live in one test process).

Names follow Prometheus conventions; infra/grafana/llmops-serving.json charts them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # the `_created` series double every counter for nothing a dashboard uses
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("llmops_requests", "Requests by endpoint and HTTP status", ["endpoint", "status"],
                                registry=r)  # fmt: skip
        self.latency = Histogram("llmops_request_latency_seconds", "Time from request to last byte", ["endpoint"],
                                 buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.first_token = Histogram("llmops_time_to_first_token_seconds", "Streaming: time to the first token",
                                     buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.tokens = Counter("llmops_tokens", "Tokens by direction (in: prompt, out: completion)", ["direction"],
                              registry=r)  # fmt: skip
        self.errors = Counter("llmops_errors", "Error responses by error code", ["code"], registry=r)
        self.guard = Counter("llmops_guard_verdicts", "Guard verdicts by check", ["check", "verdict"], registry=r)
        self.blocks = Counter(
            "llmops_guard_blocks", "Requests the input guard blocked, by category (attack family, or pii)",
            ["category"], registry=r,
        )  # fmt: skip
        self.model_version = Gauge("llmops_model_version", "1 for the registry version now serving",
                                   ["model", "version"], registry=r)  # fmt: skip
        self.prompt_version = Gauge("llmops_prompt_version", "1 for the context prompt version now rendering",
                                    ["version"], registry=r)  # fmt: skip
        self.model_load_failures = Counter("llmops_model_load_failures", "Alias checks or loads that failed",
                                           registry=r)  # fmt: skip
        self.batch_size = Histogram("llmops_batch_size", "Requests per generate call",
                                    buckets=(1, 2, 4, 8, 16, 32, 64), registry=r)  # fmt: skip
        self.queue_depth = Gauge("llmops_queue_depth", "Requests waiting for the model", registry=r)
        self.feedback = Counter("llmops_feedback", "Feedback by rating", ["rating"], registry=r)
        self.key_tokens = Counter("llmops_key_tokens", "Tokens by API key id (or client address) and direction",
                                  ["api_key", "direction"], registry=r)  # fmt: skip
        self.cost = Counter("llmops_cost", "Cost of served requests (serving.cost), by API key id and model version",
                            ["api_key", "model_version", "currency"], registry=r)  # fmt: skip
        self.budget_refusals = Counter("llmops_budget_refusals", "Requests refused: the key's daily token budget "
                                       "was spent", ["api_key"], registry=r)  # fmt: skip
        self.response_flags = Counter(
            "llmops_response_flags", "Served answers flagged online (refusal, toxic, empty, truncated, long, "
            "ungrounded), by model version", ["flag", "model_version"], registry=r,
        )  # fmt: skip
        self.faithfulness = Histogram("llmops_answer_faithfulness", "Share of a served answer's facts (prices, "
                                      "durations, menu paths) found in its retrieved context and conversation, for "
                                      "answers that state one", ["model_version"],
                                      buckets=(0.0, 0.25, 0.5, 0.75, 0.99, 1.0), registry=r)  # fmt: skip
        self.reply_words = Histogram("llmops_reply_words", "Words per served answer", ["model_version"],
                                     buckets=(0, 5, 10, 20, 40, 80, 160, 320), registry=r)  # fmt: skip
        self.traces = Counter(
            "llmops_traces", "MLflow traces and ratings on them by outcome (trace_logged, trace_failed, "
            "feedback_logged, feedback_failed, purge_failed, dropped)", ["outcome"], registry=r,
        )  # fmt: skip
        self.retrieval = Histogram("llmops_retrieval_seconds", "Knowledge base retrieval per chat request (embed "
                                   "and search)", buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
                                   registry=r)  # fmt: skip
        self.retrieved = Histogram("llmops_retrieved_chunks", "Chunks put in the prompt per chat request",
                                   buckets=(0, 1, 2, 3, 5, 10), registry=r)  # fmt: skip
        self.cache = Counter("llmops_answer_cache", "Chat requests by semantic cache outcome (hit, miss; skip: not "
                             "cacheable)", ["outcome"], registry=r)  # fmt: skip
        self.cache_saved = Counter("llmops_answer_cache_saved_seconds", "Generation time the cache's hits did not "
                                   "spend (what generating each reused answer took)", registry=r)  # fmt: skip
        self.cancelled = Counter("llmops_requests_cancelled", "Requests whose client went away mid-reply; generation "
                                 "stopped at the next step", ["endpoint"], registry=r)  # fmt: skip

    def serving(self, model: str, version: str) -> None:
        self.model_version.clear()
        self.model_version.labels(model, version).set(1)

    def prompt(self, version: str) -> None:
        self.prompt_version.clear()
        self.prompt_version.labels(version).set(1)

    def traced(self, outcome: str) -> None:
        self.traces.labels(outcome).inc()

    def batch(self, size: int, depth: int) -> None:
        self.batch_size.observe(size)
        self.queue_depth.set(depth)
