"""What the injection classifier sees of a text: the text with anything hidden in it revealed, its sentences'
embeddings, its character n-grams, and a few signs of obfuscation.

Encodings are decoded rather than learned: no amount of training teaches a linear model that `aWdub3Jl` means
"ignore", but once decoded it is an ordinary attack. Each decoder only fires when its output reads better than
its input (more common words), so a tracking number or a voucher code stays what it is.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Callable

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from tasks.guard.gloss import gloss

Embed = Callable[[list[str]], np.ndarray]

RULES = re.compile(
    "|".join(
        [  # the phrasings every attack list starts with: one feature among many, never a verdict on its own
            r"\b(?:ignore|ignoring|disregard|forget|neglect|override)\b[^.!?\n]{0,40}\b(?:instructions?|rules|"
            r"guidelines|directions|directives?|prompts?|polic(?:y|ies)|programming|guidance|(?:were |been )?told)",
            r"\byou are (?:now )?(?:DAN|no longer)\b|\b(?:unrestricted|developer|debug(?:ging)?) mode\b",
            r"\b(?:system|initial|hidden|original|secret) (?:prompt|message|instructions?|rules)\b",
            r"\b(?:reveal|dump|paste|print|output|repeat)\b[^.!?\n]{0,30}\b(?:your (?:instructions|configuration|"
            r"prompt|rules)|the (?:prompt|configuration))\b",
            r"<\|im_start\|>|<\|system\|>|\[/?INST\]|<</?SYS>>|^\s*(?:SYSTEM|###\s*(?:new )?instruction)\s*:",
        ]
    ),
    re.IGNORECASE | re.MULTILINE,
)
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){8,}")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_SPACED = re.compile(r"\b(?:\w[ .\-_]){5,}\w\b")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_LEET_WORD = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[013457@$!])[\w@$!]{3,}\b")
_URL = re.compile(r"https?://|!\[[^\]]*\]\(|<img\b", re.IGNORECASE)
_COMMON = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "to",
        "of",
        "in",
        "on",
        "for",
        "you",
        "your",
        "is",
        "are",
        "be",
        "was",
        "this",
        "that",
        "it",
        "with",
        "as",
        "at",
        "by",
        "from",
        "me",
        "my",
        "i",
        "all",
        "not",
        "no",
        "now",
        "any",
        "what",
        "do",
        "say",
        "reply",
        "answer",
        "tell",
        "give",
        "print",
        "show",
        "rules",
        "instructions",
        "ignore",
        "previous",
        "new",
    ]
)
MAX_SENTENCES = 32  # pieces per text and per request: embedding cost stays bounded for long inputs
EMBEDDING_DIM = 384  # all-MiniLM-L6-v2; a row starts with the mean sentence embedding, then the max
SIGNS = ("rule", "base64", "hex", "rot13", "reversed", "leet", "spaced", "tags", "invisible", "url")
_HASHER = HashingVectorizer(
    analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False, norm="l2", lowercase=True
)


def _readability(text: str) -> float:
    words = re.findall(r"[a-z]+", text.lower())
    return sum(w in _COMMON for w in words) / max(len(words), 1)


def _reads_better(decoded: str, original: str) -> bool:
    return _readability(decoded) >= 0.2 and _readability(decoded) > _readability(original) + 0.1


def _base64(text: str) -> list[str]:
    found = []
    for token in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded.isprintable() and _reads_better(decoded, token):
            found.append(decoded)
    return found


def _hex(text: str) -> list[str]:
    found = []
    for token in _HEX.findall(text):
        try:
            decoded = bytes.fromhex(re.sub(r"[ :]", "", token)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if decoded.isprintable() and _reads_better(decoded, token):
            found.append(decoded)
    return found


def reveal(text: str) -> tuple[str, dict[str, float]]:
    """The text as a reader would take it (normalised, invisible and encoded parts decoded and appended), and
    which signs of obfuscation it carries."""
    signs = dict.fromkeys(SIGNS, 0.0)
    hidden: list[str] = []
    tags = _TAGS.findall(text)
    if tags:
        signs["tags"] = 1.0
        hidden += ["".join(chr(ord(c) - 0xE0000) for c in t) for t in tags]
        text = _TAGS.sub(" ", text)
    if _INVISIBLE.search(text):
        signs["invisible"] = 1.0
        text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    for name, decoded in (("base64", _base64(text)), ("hex", _hex(text))):
        if decoded:
            signs[name] = 1.0
            hidden += decoded
    for name, candidate in (("rot13", codecs.encode(text, "rot13")), ("reversed", text[::-1])):
        if _reads_better(candidate, text):
            signs[name] = 1.0
            hidden.append(candidate)
    spaced = [re.sub(r"[ .\-_]", "", s) for s in _SPACED.findall(text)]
    if spaced:
        signs["spaced"] = 1.0
        hidden.append(" ".join(spaced))
    leet = _LEET_WORD.sub(lambda m: m.group(0).lower().translate(_LEET), text)
    if leet != text and _reads_better(leet, text):
        signs["leet"] = 1.0
        hidden.append(leet)
    if english := gloss("\n".join([text, *hidden])):
        hidden.append(english)
    revealed = "\n".join([text, *hidden])
    signs["rule"] = float(RULES.search(revealed) is not None)
    signs["url"] = float(_URL.search(revealed) is not None)
    return revealed, signs


def sentences(text: str) -> list[str]:
    """At most MAX_SENTENCES pieces that cover the whole text: past that, neighbouring sentences share a piece, so
    padding a message with benign text does not push an attack out of what is read."""
    parts = [p.strip() for p in _SENTENCE.split(text)]
    parts = [p for p in parts if len(p) > 3] or [text]
    if len(parts) <= MAX_SENTENCES:
        return parts
    size = -(-len(parts) // MAX_SENTENCES)
    return [" ".join(parts[i : i + size]) for i in range(0, len(parts), size)]


def pieces(texts: list[str], window: int | None) -> tuple[list[str], np.ndarray]:
    """The texts, then the sentences of each text that has several, then each run of `window` neighbouring
    sentences of a text that has more, and which text each piece comes from: a text scores as high as its highest
    piece, so one attacking sentence in a long, otherwise benign message counts in full rather than as a sixteenth
    of the mean, and an attack of two or three sentences counts as a whole though support text surrounds it."""
    parts, owner = list(texts), list(range(len(texts)))
    for i, text in enumerate(texts):
        split = sentences(text)
        found = split if len(split) > 1 else []
        if window and len(split) > window:
            found = found + [" ".join(split[j : j + window]) for j in range(len(split) - window + 1)]
        parts += found
        owner += [i] * len(found)
    return parts, np.asarray(owner)


def featurize(texts: list[str], embed: Embed) -> sparse.csr_matrix:
    """One row per text: mean and max of its sentence embeddings (EMBEDDING_DIM each), the signs, then hashed
    character n-grams.
    Sentences, not whole texts, are embedded, so an attack hidden in a long benign message is not diluted;
    all sentences of all texts go to the encoder in one batch. A text given twice (a user turn that is also one of
    the request's pieces) is read once."""
    return Revealed(texts).read(texts, embed)


def no_vectors(texts: list[str]) -> np.ndarray:
    """An `Embed` with no dimensions: rows of the signs and n-grams alone."""
    return np.zeros((len(texts), 0), dtype=np.float32)


class Revealed:
    """Texts as `featurize` reads them before any encoder runs: each distinct text's revealed sentences, signs and
    hashed n-grams, worked out once and then read with one encoder or several, for all of the texts or some (the
    classifier's first stage reads them all with no encoder, and the encoders read only what it did not clear)."""

    def __init__(self, texts: list[str]) -> None:
        distinct = list(dict.fromkeys(texts))
        self._row = {text: i for i, text in enumerate(distinct)}
        revealed = [reveal(t) for t in distinct]
        self._parts = [sentences(r) for r, _ in revealed]
        signs = np.array([[found[name] for name in SIGNS] for _, found in revealed], dtype=np.float32)
        hashed = _HASHER.transform([r for r, _ in revealed])
        self._rest = sparse.hstack([sparse.csr_matrix(signs.reshape(len(distinct), len(SIGNS))), hashed], format="csr")

    def read(self, texts: list[str], embed: Embed) -> sparse.csr_matrix:
        """`featurize(texts, embed)` for texts among those revealed: each distinct sentence embedded once."""
        rows = [self._row[t] for t in texts]
        parts = [self._parts[i] for i in rows]
        return sparse.hstack([_pooled(parts, embed), self._rest[rows]], format="csr")


def _pooled(parts: list[list[str]], embed: Embed) -> sparse.csr_matrix:
    unique = sorted({s for p in parts for s in p})
    vectors = dict(zip(unique, embed(unique), strict=True)) if unique else {}
    return sparse.csr_matrix(
        np.stack(
            [
                np.concatenate([np.mean([vectors[s] for s in p], axis=0), np.max([vectors[s] for s in p], axis=0)])
                for p in parts
            ]
        )
    )
