"""Retrieved chunks into the prompt: a system message that carries the help centre's sections, numbered, and
tells the model to answer from them and to say so when they do not cover the question."""

from __future__ import annotations

import hashlib

from tasks.knowledge.retrieve import Hit

INSTRUCTION = (
    "Answer the customer from these help centre sections when they cover the question; quote prices, menu paths "
    "and deadlines exactly as written. If they do not cover it, say you do not know and offer to pass the question "
    "to a colleague."
)


PROMPT_VERSION = "builtin-" + hashlib.sha256(INSTRUCTION.encode()).hexdigest()[:8]  # until the Prompt Registry


def context_message(hits: list[Hit]) -> str:
    sections = "\n".join(f"[{i}] {h.title} > {h.heading}: {h.text}" if h.heading else f"[{i}] {h.title}: {h.text}"
                         for i, h in enumerate(hits, 1))  # fmt: skip
    return f"{INSTRUCTION}\n\n{sections}" if hits else INSTRUCTION


def with_context(messages: list[dict[str, str]], hits: list[Hit]) -> list[dict[str, str]]:
    """The conversation with the context after its system message (or as the first message where it has none)."""
    context = context_message(hits)
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{context}"}, *messages[1:]]
    return [{"role": "system", "content": context}, *messages]
