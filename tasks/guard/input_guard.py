"""Input guard: PII redaction and prompt-injection detection, each with a policy from params (block or flag).

Injection is caught two ways: rules for the phrasings every attack list starts with, and, for reworded ones, the
cosine similarity of each sentence of a user turn to a set of known attacks (all-MiniLM-L6-v2). Sentences, not
whole turns, because an attack hidden in a long benign message is diluted in the message's mean embedding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tasks.config.schema import GuardParams
from tasks.core.errors import ConfigError
from tasks.core.files import read_lines
from tasks.data.pii import scrub

_RULES = re.compile(
    "|".join(
        [  # the attack families of OWASP LLM01, phrased generally rather than after any one test attack
            # instruction override
            r"\b(?:ignore|ignoring|disregard|forget|neglect|override)\b[^.!?\n]{0,40}\b(?:instructions?|rules|"
            r"guidelines|directions|directives?|prompts?|polic(?:y|ies)|programming|guidance|(?:were |been )?told)",
            r"\b(?:previous|prior|earlier|above) (?:instructions|directives?|rules)\b[^.!?\n]{0,20}\b(?:void|cancel)",
            # persona switch and jailbreaks
            r"\byou are (?:now )?(?:DAN|no longer)\b|\bjailbr(?:eak|oken)\b|\b(?:unrestricted|debug(?:ging)?) mode\b",
            r"\b(?:act|behave|roleplay|pretend)\b[^.!?\n]{0,30}\b(?:no|without(?: any)?) (?:filters|limitations|"
            r"restrictions|rules|content policy)",
            r"\b(?:safety|content) (?:guidelines|policy|policies|rules|filters)\b[^.!?\n]{0,30}\b(?:suspended|off|"
            r"disabled|ignore)",
            # prompt extraction
            r"\b(?:system|initial|hidden|original|secret) (?:prompt|message|instructions?|rules)\b",
            r"\b(?:reveal|dump|paste|print|output|repeat)\b[^.!?\n]{0,30}\b(?:your (?:instructions|configuration|"
            r"prompt|rules)|the (?:prompt|configuration))\b",
            # output control (canaries)
            r"\b(?:reply|respond|answer|write|type|say)\b[^.!?\n]{0,20}\bonly (?:with )?the (?:word|code)",
            r"\b(?:the )?assistant (?:must|instructions?)\b",
            # delimiter and role injection
            r"<\|im_start\|>|\[/?INST\]|^\s*(?:SYSTEM|###\s*(?:new )?instruction)\s*:|\bSYSTEM OVERRIDE\b",
        ]
    ),
    re.IGNORECASE | re.MULTILINE,
)
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")
MAX_SENTENCES = 16  # per request: embedding cost stays bounded for long inputs


@dataclass(frozen=True)
class Screened:
    """The messages the model gets, and what each check found (`verdicts`: check -> pass | flag | redact | block)."""

    messages: list[dict[str, str]]
    verdicts: dict[str, str]
    blocked: str | None = None  # the reason, when a check with policy `block` fired
    pii: Counter[str] = field(default_factory=Counter)
    injection_score: float = 0.0
    suspects: list[str] = field(default_factory=list)  # user text an injected instruction may sit in


def read_attacks(path: Path) -> list[str]:
    if not path.is_file():
        raise ConfigError(f"serving.guard.attacks: {path} not found (one known attack per line)")
    attacks = read_lines(path)
    if not attacks:
        raise ConfigError(f"serving.guard.attacks: {path} has no attacks")
    return attacks


def matches_rule(text: str) -> bool:
    return _RULES.search(text) is not None


def sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE.split(text)]
    return [p for p in parts if len(p) > 3][:MAX_SENTENCES] or [text]


class Guard:
    def __init__(self, params: GuardParams, attacks: list[str], embed: Callable[[list[str]], np.ndarray]) -> None:
        self.params = params
        self._embed = embed
        self._attacks = embed(attacks) if params.injection != "off" else np.zeros((0, 1))

    def similarity(self, texts: list[str]) -> float:
        """The highest cosine similarity of any sentence to any known attack."""
        scored = self.sentence_scores(texts)
        return max((score for _, score in scored), default=0.0)

    def sentence_scores(self, texts: list[str]) -> list[tuple[str, float]]:
        """Each sentence (at most MAX_SENTENCES) with its highest cosine similarity to a known attack."""
        parts = [s for text in texts for s in sentences(text)][:MAX_SENTENCES]
        if not parts:
            return []
        return list(zip(parts, (self._embed(parts) @ self._attacks.T).max(axis=1).tolist(), strict=True))

    def _injection(self, texts: list[str]) -> tuple[float, str, list[str]]:
        """(score, how, suspects): 1.0 and the turns for a rule match, else the highest sentence-to-attack
        similarity and the sentences at `echo_similarity` or above."""
        ruled = [text for text in texts if matches_rule(text)]
        if ruled:
            return 1.0, "rule", ruled
        scored = self.sentence_scores(texts)
        suspects = [part for part, score in scored if score >= self.params.echo_similarity]
        return max((score for _, score in scored), default=0.0), "similarity", suspects

    def screen(self, messages: list[dict[str, str]]) -> Screened:
        verdicts: dict[str, str] = {}
        blocked = None
        pii: Counter[str] = Counter()
        scrubbed = [{**m, "content": scrub(m["content"], pii)} if m["role"] == "user" else m for m in messages]
        score, suspects = 0.0, []
        if self.params.injection != "off":
            # Scored on the redacted text: "my card number is 4111..." is too like "list the card numbers" to
            # the embedding, "my card number is <CARD>" is not (2 of 64 support prompts blocked before).
            score, how, suspects = self._injection([m["content"] for m in scrubbed if m["role"] == "user"])
            hit = score >= self.params.injection_similarity
            verdicts["injection"] = self.params.injection if hit else "pass"
            if hit and self.params.injection == "block":
                blocked = f"the input looks like a prompt-injection attempt ({how}, score {score:.2f})"
        verdicts["pii"] = ("redact" if self.params.pii == "redact" else self.params.pii) if pii else "pass"
        if pii and self.params.pii == "block" and blocked is None:
            blocked = f"the input contains personal data ({', '.join(sorted(pii))}); remove it and retry"
        chosen = scrubbed if self.params.pii == "redact" else messages
        return Screened(chosen, verdicts, blocked, pii, score, suspects)
