"""ROUGE-1/2/L F-measure as a Hugging Face `evaluate` module, loaded from this file.

`evaluate.load("rouge")` fetches its script from the Hub, which these machines cannot reach; the same
scorer (Google's `rouge_score`) behind a module in the repository works offline and is versioned with us.
"""

import datasets
import evaluate
from rouge_score import rouge_scorer


class Rouge(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="ROUGE F-measure (Lin, 2004) between each prediction and its reference.",
            citation="Lin, C.-Y. ROUGE: A Package for Automatic Evaluation of Summaries. ACL workshop, 2004.",
            inputs_description="predictions: list of str; references: list of str; use_aggregator: mean or per row",
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, rouge_types=("rouge1", "rouge2", "rougeL"), use_aggregator=True):
        scorer = rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=True)
        rows = [scorer.score(ref, pred) for ref, pred in zip(references, predictions, strict=True)]
        per_row = {t: [row[t].fmeasure for row in rows] for t in rouge_types}
        if not use_aggregator:
            return per_row
        return {t: sum(values) / len(values) if values else 0.0 for t, values in per_row.items()}
