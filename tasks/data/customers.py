"""Simulated customers of a running server: chats through the official `openai` client, then ratings and
corrections through /feedback, as support staff would leave them. What `llmops demo` and the e2e test send.

answers = chat("http://127.0.0.1:8000", "llmops-support", n=200, seed=1, shift=0.6)
review("http://127.0.0.1:8000", answers, seed=1)   # -> {"approved": 40, "corrected": 61}
"""

from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from tasks.data.synthesize import traffic

if TYPE_CHECKING:
    import httpx

    from tasks.config.schema import GenerateParams

CONCURRENCY = 8  # the server's default batch: customers arrive together


@dataclass(frozen=True)
class Answer:
    request_id: str
    version: str  # the registry version that answered (x-model-version)
    intent: str
    question: str
    reply: str


def corrections() -> dict[str, str]:
    """What support staff write for each newly launched product's questions (templates/corrections.yaml)."""
    text = resources.files("tasks.data").joinpath("templates/corrections.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def chat(base_url: str, model: str, n: int, seed: int, shift: float, data: GenerateParams,
         max_tokens: int | None = None, api_key: str = "none") -> list[Answer]:  # fmt: skip
    """`n` chats of the traffic that follows the dataset `data` (`shift` of them about new products), CONCURRENCY
    at a time."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=2)
    extra = {"max_tokens": max_tokens} if max_tokens else {}

    def ask(record: dict) -> Answer:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=record["messages"], **extra)
        reply = raw.parse().choices[0].message.content or ""
        return Answer(raw.headers["x-request-id"], raw.headers["x-model-version"], record["intent"],
                      record["messages"][-1]["content"], reply)  # fmt: skip

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(ask, traffic(n, seed, shift, data)))


def review(base_url: str, answers: list[Answer], seed: int, approve_share: float = 0.25,
           api_key: str | None = None) -> dict[str, int]:  # fmt: skip
    """Staff correct every answer about a new product (rating -1 with the right answer) and approve a share of
    the others (+1) where they are right (`approvable`); the server keeps both for the next training run."""
    import httpx

    fixes, rng = corrections(), random.Random(seed)
    good = approvable(answers)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    counts = {"approved": 0, "corrected": 0}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        for answer, ok in zip(answers, good, strict=True):
            if answer.intent in fixes:
                body = {"request_id": answer.request_id, "rating": -1, "correction": fixes[answer.intent]}
                counts["corrected"] += 1
            elif rng.random() < approve_share and ok:
                body = {"request_id": answer.request_id, "rating": 1}
                counts["approved"] += 1
            else:
                continue
            _post_within_rate_limit(http, "/feedback", body)
    return counts


def approvable(answers: list[Answer]) -> list[bool]:
    """What staff would approve: a reply about what was asked (the intent whose answers it is nearest in meaning
    is the one asked) that gives no number the question did not (a made-up hotline). Approving replies unread
    fed the model's own habits back into training: "call us on 11000" to a customer who cannot call."""
    from tasks.data.synthesize import intent_answers
    from tasks.models.embeddings import embed, nearest_centroid

    if not answers:
        return []
    references = intent_answers()
    labels = [intent for intent, texts in references.items() for _ in texts]
    vectors = embed([text for texts in references.values() for text in texts])
    nearest = nearest_centroid(vectors, labels, embed([a.reply for a in answers]))
    return [
        intent == a.intent and not set(re.findall(r"\d{3,}", a.reply)) - set(re.findall(r"\d{3,}", a.question))
        for intent, a in zip(nearest, answers, strict=True)
    ]


def _post_within_rate_limit(http: httpx.Client, path: str, body: dict, attempts: int = 30) -> None:
    """A well-behaved client: on 429 it waits what the server's Retry-After says, then asks again."""
    for _ in range(attempts):
        response = http.post(path, json=body)
        if response.status_code != 429:
            response.raise_for_status()
            return
        time.sleep(float(response.headers.get("retry-after", "1")))
    response.raise_for_status()
