"""Is an answer grounded? The checkable facts in a reply (amounts, durations, allowances, menu paths, addresses)
against the context it was given and against the reference answer, which quotes the knowledge base.

faithfulness: the share of the reply's facts found in the retrieved context (a fact from nowhere is a made-up
price or menu path). fact accuracy: the share of the reference answer's facts the reply states (the help centre's
price, not another one). Rows whose reply (or reference) states no fact do not count.
"""

from __future__ import annotations

import re

_UNIT = r"(?:\s?(?:EUR|€|Mbit/s|kbit/s|%)|\s(?:working days?|days?|hours?|minutes?|months?|GB|MB))"
_FACT = re.compile(
    rf"\d+(?:[.,]\d+)?{_UNIT}"  # 9.99 EUR, 5 working days, 20 GB, 64 kbit/s (not "Smart 20GB": a plan's name)
    r"|https?://[\w./-]+|\b\d{1,3}(?:\.\d{1,3}){3}\b"  # admin pages
    r"|[\w&-]+ > (?=([\w&-]+))"  # each step of a menu path: "Bills > Usage abroad" gives "bills > usage"
)


def _normal(fact: str) -> str:
    return re.sub(r"\s+", " ", fact.replace("€", "EUR").rstrip(".")).lower()


def facts(text: str) -> set[str]:
    return {_normal(m.group() + (m.group(1) or "")) for m in _FACT.finditer(text)}


def _share(wanted: set[str], text: str) -> float | None:
    if not wanted:
        return None
    known = _normal(text)
    return sum(fact in known for fact in wanted) / len(wanted)


def faithfulness(reply: str, context: str) -> float | None:
    return _share(facts(reply), context)


def fact_accuracy(reply: str, reference: str) -> float | None:
    return _share(facts(reference), reply)
