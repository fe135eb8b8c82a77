"""Corpus BLEU (sacreBLEU, 13a tokenisation) as a Hugging Face `evaluate` module, loaded from this file.

sacreBLEU is the reference implementation behind comparable BLEU scores; the Hub's `bleu` script cannot
be fetched offline. Scores are on a 0-1 scale like the Hub's `bleu`, not sacreBLEU's 0-100.
"""

import datasets
import evaluate
import sacrebleu


class Bleu(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="Corpus BLEU with sacreBLEU's default 13a tokenizer and exponential smoothing.",
            citation="Post, M. A Call for Clarity in Reporting BLEU Scores. WMT, 2018.",
            inputs_description="predictions: list of str; references: list of str (one reference per prediction)",
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, use_aggregator=True):
        if not use_aggregator:
            return {
                "bleu": [
                    sacrebleu.sentence_bleu(pred, [ref]).score / 100
                    for pred, ref in zip(predictions, references, strict=True)
                ]
            }
        result = sacrebleu.corpus_bleu(predictions, [references])
        return {"bleu": result.score / 100, "brevity_penalty": result.bp}
