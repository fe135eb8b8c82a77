"""PII scrubbing with typed placeholders.

Regexes find candidates; checksums (Luhn for cards, ISO 7064 mod-97 for IBANs) and context
(an "order"/"ticket" number is not a phone or card) reject the false positives that matter in
support data. Private/loopback IPs (a router's 192.168.0.1) are configuration, not personal data.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable

from stdnum import iban, luhn

_NOT_PII_CONTEXT = re.compile(
    r"(order|ticket|case|invoice|ref(erence)?|tracking|contract|account|customer|serial|imei|sku)"
    r"\s*(no\.?|number|nr\.?|id|#)?\s*[:#]?\s*$",
    re.IGNORECASE,
)

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d \-.()/]{6,18}\d(?![\w])")
_STREET_SUFFIX = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Boulevard|Blvd\.?|Drive|Dr\.?|Court|Ct\.?"
    r"|Way|Place|Pl\.?|Square|Sq\.?|Terrace|Close|Crescent"
)
ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){{1,3}}(?:{_STREET_SUFFIX})(?=\W|$)"
    r"|\b[A-Z][a-zäöüß]+(?:straße|strasse|weg|gasse|platz|allee)\s+\d{1,4}[a-z]?\b"
    # lower-cased text: only suffixes that are not also common words ("place", "way", "close")
    r"|\b\d{1,5}[a-z]?,?\s+(?:[a-z]+\s+){1,2}(?:street|avenue|road|lane|boulevard)\b"
    r"|\b[a-zäöüß]+(?:straße|strasse)\s+\d{1,4}[a-z]?\b"
)
NAME = re.compile(
    r"\b(?P<cue>[Mm]y name is|[Nn]ame:|[Tt]his is|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Regards,|Thanks,|Cheers,|Best,)"
    r"(?P<sep>\s+)(?P<name>[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)\b"
)
_NAME_STOPWORDS = {"The", "This", "That", "Your", "Our", "Is", "Customer", "Support", "Team", "Vodaline"}

# Patterns that must not survive scrubbing; the validate stage checks the prepared data against them.
RESIDUAL_PATTERNS: dict[str, str] = {
    "email": EMAIL.pattern,
    "card": r"\b(?:\d{4}[ -]){3}\d{4}\b",
    "iban": r"(?i)\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b",
}


def _preceded_by_id_label(text: str, start: int) -> bool:
    return bool(_NOT_PII_CONTEXT.search(text[max(0, start - 30) : start]))


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _is_card(m: re.Match[str], text: str) -> bool:
    digits = _digits(m.group())
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits) and not _preceded_by_id_label(text, m.start())


def _is_iban(m: re.Match[str], text: str) -> bool:
    return iban.is_valid(m.group().replace(" ", "").upper())


def _is_public_ip(m: re.Match[str], text: str) -> bool:
    try:
        ip = ipaddress.ip_address(m.group())
    except ValueError:
        return False
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


_DIGIT = re.compile(r"\d")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,2}:\d{2}")


def _is_phone(m: re.Match[str], text: str) -> bool:
    s = m.group().strip()
    digits = _digits(s)
    if not 9 <= len(digits) <= 15 or _DATE.search(s) or _preceded_by_id_label(text, m.start()):
        return False
    # A bare run of digits is an id more often than a phone; real phones are written with a
    # country prefix, a trunk 0, or separators.
    return s.startswith(("+", "00", "0", "(")) or bool(re.search(r"[ \-.()/]", s))


def _always(m: re.Match[str], text: str) -> bool:
    return True


_RULES: list[tuple[str, re.Pattern[str], Callable[[re.Match[str], str], bool]]] = [
    ("EMAIL", EMAIL, _always),
    ("IBAN", IBAN, _is_iban),
    ("CARD", CARD, _is_card),
    ("IP", IPV4, _is_public_ip),
    ("IP", IPV6, _is_public_ip),
    ("PHONE", PHONE, _is_phone),
    ("ADDRESS", ADDRESS, _always),
]


def scrub(text: str, counts: Counter[str] | None = None) -> str:
    """Replace PII with `<TYPE>` placeholders, counting replacements by type into `counts`."""
    counts = counts if counts is not None else Counter()
    return _scrub_names(replace(text, lambda label, value: f"<{label}>", counts), counts)


def replace(
    text: str, replacement: Callable[[str, str], str], counts: Counter[str], labels: tuple[str, ...] = ()
) -> str:
    """Each PII value the detectors accept becomes `replacement(label, value)`; `labels` limits the types (all
    but names when empty). Replacements equal to the value are not counted."""
    has_digit = _DIGIT.search(text) is not None
    for label, pattern, accept in _RULES:
        if (labels and label not in labels) or (label != "EMAIL" and not has_digit):
            continue

        def _sub(m: re.Match[str], label: str = label, accept=accept, current: str = text) -> str:
            if not accept(m, current):
                return m.group()
            new = replacement(label, m.group())
            if new != m.group():
                counts[label] += 1
            return new

        text = pattern.sub(_sub, text)
    return text


def _scrub_names(text: str, counts: Counter[str]) -> str:
    def _sub(m: re.Match[str]) -> str:
        first = m.group("name").split()[0]
        if first in _NAME_STOPWORDS:
            return m.group()
        counts["NAME"] += 1
        return f"{m.group('cue')}{m.group('sep')}<NAME>"

    return NAME.sub(_sub, text)
