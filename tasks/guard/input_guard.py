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

from tasks.config.schema import GuardParams
from tasks.core.errors import ConfigError
from tasks.core.memory import remembered
from tasks.data import pii
from tasks.data.pii import scrub
from tasks.guard.classifier import InjectionClassifier, load
from tasks.guard.features import MAX_SENTENCES, Embed, sentences

REMEMBERED_TEXTS = 4096  # user turns and their sentences, with what was found in each
REMEMBERED_CHARS = 2000  # a longer text (a pasted log) is screened anew: a few tens of MB at most


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
                 remember: int = REMEMBERED_TEXTS) -> None:  # fmt: skip
        """`remember`: user texts whose findings the guard keeps (0: none). A chat request carries the conversation
        so far; the turns an earlier request brought are scrubbed and scored once. What is found in a text depends
        on that text alone, so a request is judged as it would be without the memory."""
        if params.injection != "off" and classifier is None:
            raise ConfigError("serving.guard.injection is on but no injection classifier was given")
        self.params = params
        self.classifier = classifier
        self._embed = embed
        self._scrubbed = remembered(_scrub_each, remember, _short)
        self._scored = remembered(self._score_each, remember, _short)
        self.threshold = params.injection_threshold or (classifier.threshold if classifier else 1.0)
        pii.ready()  # the scrubber's lists and name model, read here rather than on the first request

    def _score_each(self, texts: list[str]) -> list[tuple[float, str]]:
        assert self.classifier is not None  # __init__ refuses injection checks without one
        scores, families = self.classifier.explain(texts, self._embed)
        return list(zip(scores.tolist(), families, strict=True))

    def _injection(self, texts: list[str]) -> tuple[float, str | None, list[str]]:
        """(score, family, suspects): the highest score of any user turn and the attack family that turn is most
        like, and the turns and sentences scoring `suspect_score` or more on their own. Turns and sentences are
        scored in one batch (their sentences embedded once), those scored at an earlier request not again."""
        parts = [s for text in texts for s in sentences(text) if s != text][:MAX_SENTENCES]  # bounded per request
        scored = self._scored(texts + parts)
        suspects = [
            t for t, (score, _) in zip(texts + parts, scored, strict=True) if score >= self.params.suspect_score
        ]
        if not texts:
            return 0.0, None, suspects
        score, family = max(scored[: len(texts)], key=lambda found: found[0])  # the first turn of the highest
        return score, family, suspects

    def screen(self, messages: list[dict[str, str]]) -> Screened:
        verdicts: dict[str, str] = {}
        blocked = None
        pii: Counter[str] = Counter()
        users = [m["content"] for m in messages if m["role"] == "user"]
        found = iter(self._scrubbed(users))
        scrubbed = []
        for m in messages:
            if m["role"] == "user":
                text, types = next(found)
                pii.update(types)
                m = {**m, "content": text}
            scrubbed.append(m)
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


def _short(text: str) -> bool:
    return len(text) <= REMEMBERED_CHARS


def _scrub_each(texts: list[str]) -> list[tuple[str, Counter[str]]]:
    """Each text with its PII replaced, and the types replaced."""
    found = [Counter[str]() for _ in texts]
    return [(scrub(text, types), types) for text, types in zip(texts, found, strict=True)]


def load_guard(params: GuardParams, root: Path, embed: Embed) -> Guard:
    """The guard with the classifier at `params.classifier` (relative to `root`), read only when injection is on."""
    return Guard(params, load(root / params.classifier) if params.injection != "off" else None, embed)
