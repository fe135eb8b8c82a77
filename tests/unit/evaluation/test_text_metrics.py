"""ROUGE-L and BLEU through Hugging Face `evaluate`, from the modules in the repository (no Hub)."""

import numpy as np
import pytest

from tasks.evaluation import text_metrics
from tasks.models.embeddings import nearest_centroid


@pytest.fixture(autouse=True)
def no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # any attempt to reach the Hub fails loudly


def test_rouge_l_per_row() -> None:
    scores = text_metrics.rouge_l(["restart the router now", "hello"], ["restart the router now", "goodbye"])
    assert scores == [pytest.approx(1.0), 0.0]


def test_bleu_is_a_corpus_score_between_0_and_1() -> None:
    refs = ["restart the router and wait two minutes", "your bill is in the app under invoices"]
    assert text_metrics.bleu(refs, refs) == pytest.approx(1.0)
    assert 0 < text_metrics.bleu(["restart the router and wait", "your bill is in the app"], refs) < 1
    assert text_metrics.bleu(["x y z", "q r s"], refs) == pytest.approx(0.0, abs=1e-3)


def test_exact_match_ignores_case_and_spacing() -> None:
    assert text_metrics.exact_match(["Restart  the router.", "no"], ["restart the router.", "yes"]) == [True, False]


def test_nearest_centroid() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    queries = np.array([[0.8, 0.2], [0.3, 0.7]], dtype=np.float32)
    assert nearest_centroid(vectors, ["a", "a", "b", "b"], queries) == ["a", "b"]
