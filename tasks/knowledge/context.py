"""Retrieved chunks into the prompt: a system message, rendered from the context prompt, that carries the help
centre's sections, numbered, and tells the model to answer from them and to say so when they do not cover the
question. The prompt's text ships in templates/prompts.yaml; its versions live in the MLflow Prompt Registry
(tasks/tracking/prompts.py)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from tasks.knowledge.retrieve import Hit

_SECTIONS = re.compile(r"\{\{\s*sections\s*\}\}")


@dataclass(frozen=True)
class Prompt:
    template: str
    version: str  # the registry's version number, or `file-<sha>` for the shipped text before it is registered

    def render(self, hits: list[Hit]) -> str:
        sections = "\n".join(f"[{i}] {h.title} > {h.heading}: {h.text}" if h.heading else f"[{i}] {h.title}: {h.text}"
                             for i, h in enumerate(hits, 1))  # fmt: skip
        return _SECTIONS.sub(lambda _: sections, self.template).strip()


@cache
def shipped_prompts() -> dict[str, dict[str, str]]:
    return yaml.safe_load(resources.files("tasks.knowledge").joinpath("templates/prompts.yaml").read_text())


def shipped(kind: str = "context") -> Prompt:
    """The repository's text of a prompt: what the `context` stage renders training and test rows with."""
    template = shipped_prompts()[kind]["template"]
    return Prompt(template, f"file-{hashlib.sha256(template.encode()).hexdigest()[:8]}")


def with_context(messages: list[dict[str, str]], hits: list[Hit], prompt: Prompt | None = None) -> list[dict[str, str]]:
    """The conversation with the context after its system message (or as the first message where it has none)."""
    context = (prompt or shipped()).render(hits)
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{context}"}, *messages[1:]]
    return [{"role": "system", "content": context}, *messages]
