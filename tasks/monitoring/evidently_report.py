"""The drift check as an Evidently report: the training prompts against the window (the text, its length in words
and the MiniLM embeddings, each with Evidently's own drift method and test), and beside them the project's checks
as they decided (tasks/monitoring/drift.py: permutation tests with effect floors, k of n windows), each a metric
whose test fails when it fired. Evidently renders; the decision stays the project's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.core.metric_types import SingleValueCalculation, SingleValueMetric
from evidently.metrics import EmbeddingsDrift, ValueDrift
from evidently.tests import eq

if TYPE_CHECKING:
    from tasks.monitoring.drift import DriftResult, Sample

EMBEDDINGS = "minilm"
NEW = " (a topic training hardly saw)"


class ProjectCheck(SingleValueMetric):
    """One of the project's checks (or its decision) as it came out: 1 when it fired, so its test (= 0) fails."""

    title: str
    fired: float


class ProjectCheckCalculation(SingleValueCalculation[ProjectCheck]):
    def calculate(self, context, current_data, reference_data):
        return self.result(self.metric.fired)

    def display_name(self) -> str:
        return self.metric.title


def _frame(texts: list[str], vectors: np.ndarray) -> pd.DataFrame:
    columns = [f"{EMBEDDINGS}_{i}" for i in range(vectors.shape[1])]
    prompts = pd.DataFrame({"prompt": texts, "words": [len(t.split()) for t in texts]})
    return pd.concat([prompts, pd.DataFrame(vectors, columns=columns)], axis=1)


def _ours(result: DriftResult) -> list[ProjectCheck]:
    """The decision first, then each check with its effect and p-value, then the embedding map's clusters (a test
    fails for a topic training hardly saw)."""
    decision = ProjectCheck(title=f"llmops decision: {result.reason}", fired=float(result.drifted), tests=[eq(0)])
    checks = [ProjectCheck(title=f"llmops check {c.name}: {c.detail} (effect {c.effect:.3g}, p = {c.p_value:.3g})",
                           fired=float(c.fired), tests=[eq(0)]) for c in result.checks]  # fmt: skip
    clusters = [ProjectCheck(title=f"llmops map, cluster {c['cluster']}{NEW if c['new'] else ''}: {c['window']:.0%} "
                                   f"of recent vs {c['reference']:.0%} of training prompts, e.g. "
                                   f"{'; '.join(c['examples'][:2])!r}", fired=float(c["new"]), tests=[eq(0)])
                for c in result.clusters]  # fmt: skip
    return [decision, *checks, *clusters]


def html(result: DriftResult, sample: Sample) -> str:
    """The whole report as one self-contained page."""
    ours = _ours(result)
    if result.status == "insufficient":  # the decision alone: too few prompts to compare
        report = Report(ours)
        current = Dataset.from_pandas(pd.DataFrame({"prompt": sample.window or [""]}),
                                      DataDefinition(text_columns=["prompt"]))  # fmt: skip
        return report.run(current).get_html_str(as_iframe=False)
    reference, current = _frame(sample.reference, sample.reference_vectors), _frame(sample.drawn, sample.vectors)
    embedded = [c for c in reference.columns if c.startswith(EMBEDDINGS)]
    definition = DataDefinition(text_columns=["prompt"], numerical_columns=["words"], embeddings={EMBEDDINGS: embedded})
    report = Report([*ours, ValueDrift(column="prompt"), ValueDrift(column="words"),
                     EmbeddingsDrift(embeddings_name=EMBEDDINGS)], include_tests=True)  # fmt: skip
    snapshot = report.run(Dataset.from_pandas(current, definition), Dataset.from_pandas(reference, definition))
    return snapshot.get_html_str(as_iframe=False)
