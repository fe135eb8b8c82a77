"""Replies as served: the input guard, the model, then the output guard, with the server's params and code.

A request the input guard blocks gets no reply (the server answers 400 content_policy): it follows no injection and
leaks nothing, and for a question that should have been answered it is a refusal. A request the input guard
changes (redacted personal data) is generated again from what the model would see; every other reply is the
model-alone reply, screened by the output guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.config.schema import GuardParams
from tasks.guard.input_guard import Guard, load_guard
from tasks.guard.output_guard import screen_reply

Conversation = list[dict[str, str]]


@dataclass(frozen=True)
class Served:
    reply: str  # what the client reads; "" when blocked
    blocked: bool
    action: str  # the output guard's: pass | mask | refuse; "blocked" by the input guard


def input_guard(params: GuardParams, root: Path = Path(".")) -> Guard:
    from tasks.models.embeddings import embed

    return load_guard(params, root, embed)


def serve(
    conversations: list[Conversation], replies: list[str] | None, guard: Guard,
    regenerate: Callable[[list[Conversation]], list[str]],
) -> list[Served]:  # fmt: skip
    """The served version of each model-alone reply to `conversations`; with `replies` None (none generated),
    every request the input guard lets through is generated as the model sees it."""
    screened = [guard.screen(c) for c in conversations]
    again = [i for i, s in enumerate(screened)
             if not s.blocked and (replies is None or s.messages != conversations[i])]  # fmt: skip
    fresh = dict(zip(again, regenerate([screened[i].messages for i in again]) if again else [], strict=True))
    out = []
    for i, (conversation, screen) in enumerate(zip(conversations, screened, strict=True)):
        if screen.blocked:
            out.append(Served("", True, "blocked"))
            continue
        generated = fresh[i] if replies is None or i in fresh else replies[i]
        reply = screen_reply(generated, conversation, screen.suspects, guard.params)
        out.append(Served(reply.text, False, reply.action))
    return out
