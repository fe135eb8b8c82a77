"""Input guard: PII redaction and prompt-injection detection, each with a policy from params (block or flag).

Injection is scored by the classifier the `guard` stage trained (tasks/guard/build.py): a logistic regression over
sentence embeddings, character n-grams and signs of obfuscation, with encoded and invisible text decoded first.
Each user turn is scored whole, and its sentences one by one: a sentence that scores high on its own is a
suspect, and the output guard refuses a reply that echoes a code only a suspect carries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tasks.config.schema import GuardParams
from tasks.core.errors import ConfigError
from tasks.data import pii
from tasks.data.pii import scrub
from tasks.guard.classifier import InjectionClassifier, load
from tasks.guard.features import MAX_SENTENCES, Embed, sentences
from tasks.models.embeddings import remembering

REMEMBERED_SENTENCES = 4096  # per encoder, 1.5 KB each


@dataclass(frozen=True)
class Screened:
    """The messages the model gets, and what each check found (`verdicts`: check -> pass | flag | redact | block)."""

    messages: list[dict[str, str]]
    verdicts: dict[str, str]
    blocked: str | None = None  # the reason, when a check with policy `block` fired
    pii: Counter[str] = field(default_factory=Counter)
    injection_score: float = 0.0
    suspects: list[str] = field(default_factory=list)  # user text an injected instruction may sit in
    category: str | None = None  # what a block was for: the attack family it is most like, or "pii"


class Guard:
    def __init__(self, params: GuardParams, classifier: InjectionClassifier | None, embed: Embed,
                 remember: int = REMEMBERED_SENTENCES) -> None:  # fmt: skip
        """`remember`: sentence vectors each encoder keeps (0: none). A chat request carries the conversation so
        far, so each turn's sentences are read once rather than at every later turn too."""
        if params.injection != "off" and classifier is None:
            raise ConfigError("serving.guard.injection is on but no injection classifier was given")
        self.params = params
        self.classifier = classifier.remembering(remember) if classifier and remember else classifier
        self._embed = remembering(embed, remember) if remember else embed
        self.threshold = params.injection_threshold or (classifier.threshold if classifier else 1.0)
        pii.ready()  # the scrubber's lists and name model, read here rather than on the first request

    def _injection(self, texts: list[str]) -> tuple[float, str | None, list[str]]:
        """(score, family, suspects): the highest score of any user turn and the attack family that turn is most
        like, and the turns and sentences scoring `suspect_score` or more on their own. Turns and sentences are
        scored in one batch (their sentences embedded once)."""
        assert self.classifier is not None  # __init__ refuses injection checks without one
        parts = [s for text in texts for s in sentences(text) if s != text][:MAX_SENTENCES]  # bounded per request
        scores, families = self.classifier.explain(texts + parts, self._embed)
        suspects = [t for t, score in zip(texts + parts, scores, strict=True) if score >= self.params.suspect_score]
        if not texts:
            return 0.0, None, suspects
        top = int(np.argmax(scores[: len(texts)]))
        return float(scores[top]), families[top], suspects

    def screen(self, messages: list[dict[str, str]]) -> Screened:
        verdicts: dict[str, str] = {}
        blocked = None
        pii: Counter[str] = Counter()
        scrubbed = [{**m, "content": scrub(m["content"], pii)} if m["role"] == "user" else m for m in messages]
        score, suspects, category = 0.0, [], None
        if self.params.injection != "off" and self.classifier is not None:
            # Scored on the redacted text, as the classifier was trained: "my card number is <CARD>".
            score, family, suspects = self._injection([m["content"] for m in scrubbed if m["role"] == "user"])
            hit = score >= self.threshold
            verdicts["injection"] = self.params.injection if hit else "pass"
            if hit and self.params.injection == "block":
                category = family
                blocked = f"the input looks like a prompt-injection attempt ({family}, score {score:.2f})"
        verdicts["pii"] = ("redact" if self.params.pii == "redact" else self.params.pii) if pii else "pass"
        if pii and self.params.pii == "block" and blocked is None:
            category = "pii"
            blocked = f"the input contains personal data ({', '.join(sorted(pii))}); remove it and retry"
        chosen = scrubbed if self.params.pii == "redact" else messages
        return Screened(chosen, verdicts, blocked, pii, score, suspects, category)


def load_guard(params: GuardParams, root: Path, embed: Embed) -> Guard:
    """The guard with the classifier at `params.classifier` (relative to `root`), read only when injection is on."""
    return Guard(params, load(root / params.classifier) if params.injection != "off" else None, embed)
