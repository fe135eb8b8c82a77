"""The learned name model: which runs it scores, what it finds in locales it never saw, and its cache."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tasks.data import pii_names
from tasks.evaluation.pii_set import UNSEEN_LOCALES, name_recall, unseen_names


def _runs(text: str) -> list[str]:
    return [text[a:b] for a, b in pii_names.runs(text, pii_names.NOT_NAMES)]


def test_runs_are_capitalised_words_on_one_line_in_any_cased_alphabet() -> None:
    assert _runs("Spoke to Θεανώ Μπακλάβας and John Phạm today.") == ["Θεανώ Μπακλάβας", "John Phạm"]
    assert _runs("I told Anneke van der Berg.") == ["Anneke van der Berg"]
    assert _runs("Dear Customer Service,\nKind Regards") == []  # trimmed: words that open or close a run
    assert _runs("Ma Livebox redémarre.") == []  # one word left after the determiner
    assert _runs("Anna\nBerg") == []
    assert _runs("my router keeps dropping the line") == []


@pytest.fixture(scope="module")
def held_out() -> pii_names.Model:
    """Trained without the locales the set reads: what it finds there, it did not memorise."""
    return pii_names.train([loc for loc in pii_names.LOCALES if loc not in UNSEEN_LOCALES], per_locale=200)


def test_names_of_unseen_locales_are_found_beyond_the_rules(held_out: pii_names.Model) -> None:
    data = unseen_names(2, seed=3)
    rules, _ = name_recall(data, None)
    learned, wrong = name_recall(data, held_out)
    mean = sum(learned.values()) / len(learned)
    # measured here: rules 0.40, rules + model 0.74 (0.83 with the model's full training data); 2 of 20 negatives
    # masked, both by the rules ("Port Elizabeth": Elizabeth is a first name). The rules read 0.28 until their
    # letters took in every Latin alphabet ("Dvořák" was cut at its "ř")
    assert mean >= 0.68 and mean >= sum(rules.values()) / len(rules) + 0.3
    assert len(wrong) <= 3


def test_a_name_opening_a_sentence_is_found_without_the_word_before_it(held_out: pii_names.Model) -> None:
    text = "Ok. Tell Vusumuzi Vabaza to call us."
    assert [text[a:b] for a, b, _ in pii_names.names(text, held_out)] == ["Vusumuzi Vabaza"]


def test_the_threshold_keeps_look_alikes_out(held_out: pii_names.Model) -> None:
    for text in ["Is Young Magenta cheaper than Unlimited Max?", "Open Network Settings and switch off Wi-Fi Calling."]:
        assert list(pii_names.names(text, held_out)) == []


def test_the_model_is_trained_once_and_read_from_the_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tiny = pii_names.Model(np.ones(pii_names.DIMENSION, np.float32), -3.0, 1.5)
    monkeypatch.setattr(pii_names, "train", lambda: tiny)
    pii_names.load.cache_clear()
    try:
        first = pii_names.load()
        (saved,) = (tmp_path / "llmops" / "pii-names").glob("*.npz")
        pii_names.load.cache_clear()
        monkeypatch.setattr(pii_names, "train", lambda: pytest.fail("trained again despite the cache"))
        again = pii_names.load()
    finally:
        pii_names.load.cache_clear()
    assert saved.is_file() and (again.bias, again.threshold) == (first.bias, first.threshold)
    assert np.array_equal(again.weights, first.weights)


def test_training_data_is_the_same_in_every_process() -> None:
    """The cache is keyed by code and Faker's version: the data must not vary with Python's hash seed."""
    code = ("import hashlib; from tasks.data import pii_names as m; "
            "print(hashlib.md5(repr(m.examples(('en_US', 'yo_NG'), 0, 20)).encode()).hexdigest())")  # fmt: skip
    runs = [
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True,
                       text=True, check=True)
        for seed in ("1", "2")
    ]  # fmt: skip
    digests = {run.stdout for run in runs}
    assert len(digests) == 1
