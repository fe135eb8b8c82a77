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
from functools import lru_cache

from stdnum import iban, luhn

_NOT_PII_CONTEXT = re.compile(
    r"(order|ticket|case|invoice|ref(erence)?|tracking|contract|account|customer|serial|imei|sku)"
    r"\s*(no\.?|number|nr\.?|id|#)?\s*[:#]?\s*$",
    re.IGNORECASE,
)

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")  # not a firmware version's tail
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d \-.()/]{6,18}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w])")
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
_UPPER = "A-ZÀ-ÖØ-ÞŐŰ"  # upper-case letters of the supported locales
_WORD = rf"[{_UPPER}][a-zà-öø-ÿőű'’]+(?:-[{_UPPER}]?[a-zà-öø-ÿőű'’]+)?"
_PARTICLE = r"(?:van|von|der|den|de|du|le|la|di|da|ter|ten|het|'t)"
_TITLE = r"(?:Dr|Mr|Mrs|Ms|Mx|Prof|Ing|Mag)\.?"
_POSTCODE = r"(?:H-\d{4}|\d{4}\s?[A-Z]{2}(?![a-z])|\d{5}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|\d{4})"
POSTAL_ADDRESS = re.compile(  # a street with its number, then postcode and town: the whole line, in six locales
    r"(?:"
    rf"(?:[{_UPPER}][\w'’.-]*|rue|avenue|boulevard|chemin|allée|place|impasse|quai)(?:[ -][\w'’.-]+){{0,3}}"
    r"\s\d{1,5}(?:[-/]\d{1,4})?[a-zA-Z]?\.?"  # Paulo-Schleich-Straße 19, Ceglédi tér 11., Sennaweg 32
    r"|\d{1,5}[a-zA-Z]?,?\s(?:[\w'’.-]+\s){0,3}[\w'’.-]+(?:\s(?:Apt\.|Suite|Unit|Flat)\s\d+)?"  # 78, rue de ...
    rf"|(?:Flat|Studio|Apartment|Unit)\s\d+[A-Za-z]?,?\s(?:[{_UPPER}][\w'’-]*\s?){{1,3}}"  # Studio 9, Robson Dale
    rf"),?\s+{_POSTCODE}\s+[{_UPPER}][\w'’-]+(?:\s[{_UPPER}][\w'’-]+){{0,2}}"
)
NAME = re.compile(  # a cue a person writes before their own or another's name, then the name
    r"(?P<cue>\b(?:[Mm]y name is|(?<![Pp]lan )(?<![Pp]roduct )(?<![Tt]ariff )[Nn]ame:|[Tt]his is|I'm|I am|"
    r"[Aa]ccount (?:holder|name):?|[Cc]ontact:|"
    r"(?:[Kk]ind |[Bb]est |[Ww]arm )?[Rr]egards,|[Bb]est wishes,|[Tt]hanks,|[Tt]hank you,|[Cc]heers,|[Bb]est,|"
    rf"[Ss]incerely,|[Yy]ours,)|\b{_TITLE}(?=\s))"
    rf"(?P<sep>\s+)(?P<name>(?:{_TITLE}\s+)?(?:[{_UPPER}]\.\s+)*{_WORD}"
    rf"(?:\s+(?:{_PARTICLE}\s+)*(?:[{_UPPER}]\.\s+)?{_WORD}){{0,3}})"
)
_NAME_STOPWORDS = {
    "The", "This", "That", "Your", "Our", "Is", "Customer", "Support", "Team", "Vodaline", "Not", "Sorry", "Also",
    "Still", "Here", "Just", "Very", "Really", "So", "On", "In", "From", "At", "With", "Writing", "Calling",
    "Trying", "Having", "Using", "Looking", "Unable", "Happy", "Glad", "Please", "Hello", "Hi", "Thanks",
}  # fmt: skip

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


_CARD_CUE = re.compile(r"\b(?:card|maestro|visa|mastercard|amex)\b[^.!?\n]{0,20}$", re.IGNORECASE)


def _is_card(m: re.Match[str], text: str) -> bool:
    digits = _digits(m.group())
    if not 12 <= len(digits) <= 19 or not luhn.is_valid(digits) or _preceded_by_id_label(text, m.start()):
        return False  # 12 digits (Maestro) only where the text says it is a card: most 12-digit runs are ids
    return len(digits) >= 13 or bool(_CARD_CUE.search(text[max(0, m.start() - 40) : m.start()]))


def _is_iban(m: re.Match[str], text: str) -> bool:
    return iban.is_valid(m.group().replace(" ", "").upper())


def _is_public_ip(m: re.Match[str], text: str) -> bool:
    try:
        ip = ipaddress.ip_address(m.group())
    except ValueError:
        return False
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


_DIGIT = re.compile(r"\d")
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE = re.compile(  # real days and months only: Hungarian "06-20/641 6988" is a phone, not a date
    rf"(?<!\d)(?:\d{{4}}[-./]{_MONTH}[-./]{_DAY}|{_DAY}[-./]{_MONTH}[-./](?:\d{{4}}|\d{{2}})|{_MONTH}/{_DAY}/\d{{2,4}})"
    r"(?!\d)|\d{1,2}:\d{2}"
)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,5}$")
_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _is_phone(m: re.Match[str], text: str) -> bool:
    s = _EXTENSION.sub("", m.group().strip())
    digits = _digits(s)
    if not 9 <= len(digits) <= 15 or _DATE.search(s) or _preceded_by_id_label(text, m.start()):
        return False
    if _DOTTED_QUAD.match(s):
        return False  # an address like the router's 192.168.178.1, never a phone
    separators = set(re.sub(r"[\d+]", "", s))
    if separators <= {"/"} and not s.startswith(("+", "0", "(")):
        return False  # rates and tiers: "110000/21000", "50/100/500/1000"
    # A bare run of digits is an id more often than a phone; real phones are written with a
    # country prefix, a trunk 0, or separators.
    return s.startswith(("+", "00", "0", "(")) or bool(separators)


def _always(m: re.Match[str], text: str) -> bool:
    return True


_RULES: list[tuple[str, re.Pattern[str], Callable[[re.Match[str], str], bool]]] = [
    ("EMAIL", EMAIL, _always),
    ("IBAN", IBAN, _is_iban),
    ("CARD", CARD, _is_card),
    ("IP", IPV4, _is_public_ip),
    ("IP", IPV6, _is_public_ip),
    ("PHONE", PHONE, _is_phone),
    ("ADDRESS", POSTAL_ADDRESS, _always),
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


NAME_LOCALES = (
    "en_US",
    "en_GB",
    "en_IN",
    "de_DE",
    "nl_NL",
    "hu_HU",
    "fr_FR",
    "es_ES",
    "it_IT",
    "pl_PL",
    "pt_PT",
    "tr_TR",
)
_CAPITALISED_RUN = re.compile(  # two to five capitalised words, initials and name particles between them
    rf"(?:(?:{_TITLE}|[{_UPPER}]\.)\s+)*{_WORD}(?:\s+(?:(?:{_PARTICLE}|[{_UPPER}]\.)\s+)*{_WORD}){{1,4}}"
)
_NOT_NAMES = {  # capitalised words that open or close a run of them in support messages without being a name
    *_NAME_STOPWORDS, "Dear", "Hey", "Good", "Morning", "Evening", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "June", "July", "August",
    "September", "October", "November", "December", "Kind", "Regards", "Best", "Wishes", "Yesterday", "Today",
    "Account", "Holder", "Contact", "Signed", "Subject", "Installation", "Bank", "Plan", "Could", "Can",
    "Why", "What", "How", "When", "Where", "Who", "My", "I", "Mobile", "Unlimited", "Family", "Share",
    "Young", "Smart", "Business", "Pro", "Travel", "Home", "Box", "Street", "Road", "Avenue", "Lane", "Galaxy",
    "Pixel", "Archer", "Netflix", "Disney", "Sport", "Sports", "Max", "Plus", "Ultra", "Mini", "Air", "Fibre",
}  # fmt: skip


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names of the supported locales, from Faker's providers (census and register lists)."""
    from faker import Faker

    names: set[str] = set()
    for locale in NAME_LOCALES:
        for provider in Faker(locale).providers:
            for attr in ("first_names", "first_names_male", "first_names_female"):
                found = getattr(provider, attr, None) or ()
                names.update(found.keys() if isinstance(found, dict) else found)
    return frozenset(names - _NOT_NAMES)


def _words(text: str) -> list[re.Match[str]]:
    """The words of a matched name with their positions, so a replacement keeps the text's own spacing."""
    return list(re.finditer(r"\S+", text))


def _scrub_known_names(text: str, counts: Counter[str]) -> str:
    """A run of capitalised words holding a known first name is a person's name, wherever it stands ("Logan
    Hicks here", "Kovács Erzsébet"); the words around it that are not names stay."""
    known = first_names()

    def _sub(m: re.Match[str]) -> str:
        run = m.group()
        words = _words(run)
        start = next((i for i, w in enumerate(words) if w.group().rstrip(".") not in _NOT_NAMES), len(words))
        end = len(words) - next((i for i, w in enumerate(reversed(words)) if w.group() not in _NOT_NAMES), len(words))
        core = [w.group() for w in words[start:end]]
        if len(core) < 2 or not any(w in known for w in core):
            return run
        counts["NAME"] += 1
        return f"{run[: words[start].start()]}<NAME>{run[words[end - 1].end() :]}"  # the spacing around stays

    return _CAPITALISED_RUN.sub(_sub, text)


def _scrub_names(text: str, counts: Counter[str]) -> str:
    def _sub(m: re.Match[str]) -> str:
        name = m.group("name")
        words = _words(name)
        kept = next((i for i, w in enumerate(words) if w.group() in _NAME_STOPWORDS), len(words))
        if kept == 0:
            return m.group()
        counts["NAME"] += 1
        return f"{m.group('cue')}{m.group('sep')}<NAME>{name[words[kept - 1].end() :]}"

    return _scrub_known_names(NAME.sub(_sub, text), counts)
