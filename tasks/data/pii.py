"""PII detection and redaction with typed placeholders (`<EMAIL>`, `<NAME>`): one detector for `prepare`, the
serving guards and the request log. Presidio's analyzer runs the recognizers of `tasks.data.pii_rules`; its
anonymizer resolves overlaps (the higher-scored type wins: an IBAN's digit groups are not a phone) and replaces.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from tasks.data.pii_rules import SCORES

if TYPE_CHECKING:
    from presidio_analyzer import RecognizerResult

LABELS = tuple(SCORES)


def find(text: str, labels: tuple[str, ...] = LABELS) -> list[RecognizerResult]:
    """The PII spans of `labels` in `text`, overlaps not yet resolved."""
    from tasks.data.pii_recognizers import LANGUAGE, engines

    analyzer, _ = engines()
    return analyzer.analyze(text, language=LANGUAGE, entities=list(labels))


def ready() -> None:
    """Build the analyzer, its recognizers reading every list and model they need, so that no text waits for them:
    a server's first requests took six seconds more without it."""
    from tasks.data.pii_recognizers import engines

    engines()


def replace(
    text: str, replacement: Callable[[str, str], str], counts: Counter[str], labels: tuple[str, ...] = LABELS
) -> str:
    """Each PII value of `labels` becomes `replacement(label, value)`, counted by type into `counts` unless the
    replacement is the value itself."""
    results = find(text, labels)
    if not results:
        return text
    from presidio_anonymizer.entities import OperatorConfig

    from tasks.data.pii_recognizers import engines

    def operator(label: str) -> OperatorConfig:
        def _replace(value: str) -> str:
            new = replacement(label, value)
            if new != value:
                counts[label] += 1
            return new

        return OperatorConfig("custom", {"lambda": _replace})

    _, anonymizer = engines()
    return anonymizer.anonymize(text, results, operators={r.entity_type: operator(r.entity_type) for r in results}).text


def scrub(text: str, counts: Counter[str] | None = None) -> str:
    """Replace PII with `<TYPE>` placeholders, counting replacements by type into `counts`."""
    return replace(text, lambda label, value: f"<{label}>", counts if counts is not None else Counter())
