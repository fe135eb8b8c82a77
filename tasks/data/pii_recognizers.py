"""The PII rules as Presidio recognizers, and the analyzer and anonymizer that run them.

Imported only when text is first screened: Presidio's import pulls in spaCy (a second), which a process that never
scrubs should not pay; torch and transformers, which it would load for NLP engines not used here, are left out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from tasks.core.imports import without
from tasks.data import pii_addresses, pii_ids, pii_names
from tasks.data.pii_rules import DIGIT, RULES, SCORES, Accept, first_names, iban_spans, spelled_emails

with without("torch", "transformers"):  # what Presidio's NLP engines would use; ours is NoOpNlpEngine
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer, LocalRecognizer, RecognizerRegistry
    from presidio_analyzer import RecognizerResult as Result
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpArtifacts, NoOpNlpEngine
    from presidio_anonymizer import AnonymizerEngine

# One language for every recognizer: a support message's language is not known before it is screened, so each
# recognizer carries the cue and context words of all the supported locales.
LANGUAGE = "xx"


class Rule(LocalRecognizer):
    """A regex for candidates and a check that reads the text around each one (an "order no." before a number):
    Presidio's own PatternRecognizer validates the matched value alone."""

    def __init__(self, label: str, pattern: re.Pattern[str], accept: Accept) -> None:
        self.pattern, self.accept = pattern, accept
        super().__init__(supported_entities=[label], name=f"{label.lower()}:{pattern.pattern[:24]}",
                         supported_language=LANGUAGE)  # fmt: skip

    def load(self) -> None:
        """Nothing to load: the pattern is compiled at import."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[Result]:
        if self.supported_entities[0] != "EMAIL" and not DIGIT.search(text):
            return []  # every other type has digits: most support text is skipped here
        label = self.supported_entities[0]
        return [
            Result(label, m.start(), m.end(), SCORES[label])
            for m in self.pattern.finditer(text)
            if self.accept(m, text)
        ]


class Names(LocalRecognizer):
    """Names: after a cue a person writes before a name (any capitalised words), a run of capitalised words
    holding a first name of the supported locales (wherever it stands: "Logan Hicks here", "Kovács Erzsébet"),
    or a run the learned name model scores above its threshold (tasks.data.pii_names: "Vusumuzi Vabaza")."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["NAME"], name="name", supported_language=LANGUAGE)

    def load(self) -> None:
        first_names()
        pii_names.ready()

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[Result]:
        return [Result("NAME", start, end, SCORES["NAME"]) for start, end in pii_names.spans(text, pii_names.load())]


class Finder(LocalRecognizer):
    """A type whose spans a function finds, the context read there: postal addresses (a street in any of the
    supported locales' orders, grown over the flat, postcode, town or state beside it), national ids confirmed by
    their checks, IBANs cut back to the groups that check out, e-mail addresses spelled out."""

    def __init__(self, label: str, find: Callable[[str], Iterable[tuple[int, int]]], digits: bool = True) -> None:
        self.find, self.digits = find, digits
        super().__init__(supported_entities=[label], name=label.lower(), supported_language=LANGUAGE)

    def load(self) -> None:
        """Nothing to load: the patterns are compiled at import."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[Result]:
        if self.digits and not DIGIT.search(text):
            return []  # every value it finds has a number: most support text is skipped here
        label = self.supported_entities[0]
        return [Result(label, start, end, SCORES[label]) for start, end in self.find(text)]


class _OwnContext(ContextAwareEnhancer):
    """Each rule reads the words around a candidate itself ("order no.", "card ending"), in every locale; Presidio's
    lemma-based boost would need a spaCy model per language and has nothing to add."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0, min_score_with_context_similarity=0,
                         context_prefix_count=0, context_suffix_count=0)  # fmt: skip

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[Result],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[Result]:
        return raw_results


@lru_cache(maxsize=1)
def engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    """Presidio's analyzer with our recognizers and no NLP model (each recognizer reads the text itself), and
    its anonymizer, which resolves overlaps by score."""
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)  # not a line per recognizer in every stage log
    nlp = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for label, pattern, accept in RULES:
        registry.add_recognizer(Rule(label, pattern, accept))
    registry.add_recognizer(Finder("IBAN", iban_spans))
    registry.add_recognizer(Finder("EMAIL", spelled_emails, digits=False))
    registry.add_recognizer(Finder("ADDRESS", pii_addresses.spans))
    registry.add_recognizer(Finder("NATIONAL_ID", pii_ids.spans))
    registry.add_recognizer(Names())
    analyzer = AnalyzerEngine(
        registry=registry, nlp_engine=nlp, supported_languages=[LANGUAGE], context_aware_enhancer=_OwnContext()
    )
    return analyzer, AnonymizerEngine()
