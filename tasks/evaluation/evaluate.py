"""Evaluation on the held-out test split and the probe sets, for the base model or base + LoRA adapter.

llmops evaluate --out data/reports/eval_base.json                      (the base model, cached by DVC)
llmops evaluate --adapter models/adapter --baseline data/reports/eval_base.json --run-from data/reports/train.json

The fine-tuned evaluation is logged to its training run, which the deploy gate reads: the run's
`llmops.eval.status` tag says `complete` only after every metric and artifact is there.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import torch

from tasks.config.metrics import served_key
from tasks.config.schema import EvaluateParams, Params
from tasks.core.errors import DataFormatError, ModelSourceError
from tasks.core.files import read_jsonl, write_json, write_jsonl
from tasks.core.progress import Progress
from tasks.evaluation import embedding_view, fairness, probes, statistics, text_metrics
from tasks.evaluation.judge import Endpoint
from tasks.evaluation.paths import EvalPaths
from tasks.evaluation.served import Served, input_guard, serve
from tasks.knowledge.claims import fact_accuracy, faithfulness
from tasks.models.batching import greedy, pad_id
from tasks.models.inference import dtype_name, inference_dtype
from tasks.models.llamacpp import GgufServer
from tasks.training import sft_data
from tasks.training.sft_data import encode

log = logging.getLogger("llmops.evaluate")


def _grounded_on(test: Path) -> str | None:
    """The index the test rows' context came from (the `context` stage's summary), None where they carry none."""
    summary = test.parent / "summary.json"
    return orjson.loads(summary.read_bytes()).get("index_version") if summary.is_file() else None


@dataclass(frozen=True)
class Generated:
    replies: list[str]
    latency_ms: list[float]
    new_tokens: list[int]
    seconds: float


def test_rows(path: Path, max_rows: int | None) -> list[dict]:
    """Rows whose last turn is the assistant's: everything before it is the prompt, it is the reference."""
    if not path.is_file():
        raise DataFormatError(f"{path}: test split not found; run `dvc repro split` first")
    rows = list(read_jsonl(path))[:max_rows]
    if not rows:
        raise DataFormatError(f"{path}: the test split is empty; lower split.test_fraction's rounding or add data")
    for n, row in enumerate(rows, start=1):
        messages = row.get("messages") or []
        if len(messages) < 2 or messages[-1].get("role") != "assistant":
            raise DataFormatError(f"{path}:{n}: row {row.get('id')} does not end with an assistant turn")
    return rows


def load_model(base: Path, adapter: Path | None, dtype: torch.dtype = torch.float32):
    """The model as it will be served: LoRA merged into the base (same weights, plain transformers), in the
    server's dtype (model.inference_dtype)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    for path, what in ((base, "base model"), (adapter, "adapter")):
        if path is not None and not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            raise ModelSourceError(f"{path}: no {what} there; run `dvc repro` up to the train stage first")
    if adapter is not None:
        from tasks.models.logged_model import merged_model

        model = merged_model(base, adapter)
    else:
        model = AutoModelForCausalLM.from_pretrained(base)
    tokenizer = AutoTokenizer.from_pretrained(adapter or base)
    return model.to(dtype).eval(), tokenizer


@dataclass(frozen=True)
class RowLosses:
    """The loss behind perplexity, per test row (NaN and 0 targets where a row had nothing left to predict)."""

    nll: np.ndarray
    targets: np.ndarray

    @property
    def perplexity(self) -> float:
        kept = self.targets > 0
        return float(np.exp(self.nll[kept].sum() / max(int(self.targets[kept].sum()), 1)))


def row_losses(model, tokenizer, conversations: list[list[dict]], cfg: EvaluateParams) -> RowLosses:
    """Token cross-entropy on the assistant turns, the quantity training minimised, for each conversation."""
    data = encode(tokenizer, conversations, cfg.max_seq_len, where="test split")
    rows = np.argsort(data.lengths, kind="stable")
    losses = sft_data.row_losses(model, data, rows, cfg.batch_size, pad_id(tokenizer), model.device)
    source = np.asarray(data.source)[rows]
    nll, targets = np.full(len(conversations), np.nan), np.zeros(len(conversations), dtype=np.int64)
    nll[source], targets[source] = losses, data.targets[rows]
    return RowLosses(nll, targets)


def generate(
    model, tokenizer, conversations: list[list[dict]], cfg: EvaluateParams, desc: str, gguf: GgufServer | None = None
) -> Generated:
    """Greedy replies, in the callers' order, from the engine that will serve them: the transformers engine's
    continuous batching (`batch_size` rows, shortest prompts first, so little of a batch is padding), or
    (serving.engine llamacpp) the model's GGUF in llama.cpp's slots. Each row's latency is its own request's."""
    prompts = [tokenizer.apply_chat_template(c, tokenize=True, add_generation_prompt=True, return_dict=False)
               for c in conversations]  # fmt: skip
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    progress = Progress(len(prompts), desc=desc, unit="reply", every=gguf.slots * 4 if gguf else cfg.batch_size * 4)
    count = iter(range(1, len(prompts) + 1))
    tick = lambda: progress.update(next(count))  # noqa: E731
    started = time.perf_counter()
    if gguf is not None:
        done = gguf.complete_all([prompts[i] for i in order], cfg.max_new_tokens, tick)
        texts, tokens, seconds = [d.text for d in done], [d.tokens for d in done], [d.seconds for d in done]
    else:
        done = greedy(model, tokenizer, [prompts[i] for i in order], cfg.max_new_tokens, cfg.batch_size, tick)
        texts = [tokenizer.decode(d.tokens, skip_special_tokens=True) for d in done]
        tokens, seconds = [len(d.tokens) for d in done], [d.seconds for d in done]
    progress.close()
    replies, latency, new_tokens = [""] * len(prompts), [0.0] * len(prompts), [0] * len(prompts)
    for j, i in enumerate(order):
        replies[i], latency[i], new_tokens[i] = texts[j].strip(), seconds[j] * 1000, tokens[j]
    return Generated(replies, latency, new_tokens, time.perf_counter() - started)


def intent_predictions(reference: Path, texts: list[str], embed: Callable[[list[str]], np.ndarray]) -> list[str]:
    """Which intent each text answers: nearest centroid of the split's reference replies (intents.jsonl) in
    MiniLM embedding space."""
    from tasks.models.embeddings import nearest_centroid

    if not reference.is_file():
        raise DataFormatError(f"{reference}: intent reference not found; run `dvc repro split` first")
    rows = list(read_jsonl(reference))
    if len({row["intent"] for row in rows}) < 2:
        return []
    return nearest_centroid(embed([row["reply"] for row in rows]), [row["intent"] for row in rows], embed(texts))


def _rate(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else 0.0


def score_test(
    rows: list[dict], gen: Generated, sets: probes.ProbeSets, intents: list[str], served: list[Served],
    losses: RowLosses,
) -> tuple[dict, list]:  # fmt: skip
    """Metrics over the test replies (model alone, and refusal and toxicity as served) and the examples behind them."""
    refs = [row["messages"][-1]["content"] for row in rows]
    rouge = text_metrics.rouge_l(gen.replies, refs)
    sentence_bleu = text_metrics.sentence_bleu(gen.replies, refs)
    exact = text_metrics.exact_match(gen.replies, refs)
    refusals = [probes.matches(sets.refusal, r) for r in gen.replies]
    toxic = [probes.matches(sets.toxicity, r) for r in gen.replies]
    # A refusal counts only where the reference answers: the safety rows' references refuse, and so should the model.
    answers = [not probes.matches(sets.refusal, ref) for ref in refs]
    given = [" ".join(m["content"] for m in row["messages"][:-1]) for row in rows]  # what the model was given
    grounded = [faithfulness(reply, prompt) for reply, prompt in zip(gen.replies, given, strict=True)]
    accurate = [fact_accuracy(reply, ref) for reply, ref in zip(gen.replies, refs, strict=True)]
    examples = []
    for i, row in enumerate(rows):
        examples.append({
            "kind": "test", "id": row.get("id"), "intent": row.get("intent"),
            "prompt": row["messages"][-2]["content"], "reference": refs[i], "reply": gen.replies[i],
            "rougeL": round(rouge[i], 4), "bleu": round(sentence_bleu[i], 4), "exact_match": exact[i],
            "predicted_intent": intents[i] if intents else None,
            "reply_tokens": gen.new_tokens[i], "latency_ms": round(gen.latency_ms[i], 1),
            "refusal": refusals[i], "expects_answer": answers[i], "toxic": toxic[i], **_as_served(served[i]),
            "nll": None if np.isnan(losses.nll[i]) else float(losses.nll[i]), "targets": int(losses.targets[i]),
            "faithfulness": grounded[i], "fact_accuracy": accurate[i],
        })  # fmt: skip
    labelled = [e for e in examples if e["intent"] and e["predicted_intent"]]
    metrics = {
        "rougeL": float(np.mean(rouge)),
        "bleu": text_metrics.bleu(gen.replies, refs),
        "exact_match": _rate(exact),
        "answer_tokens_mean": float(np.mean(gen.new_tokens)),
        "latency_ms_mean": float(np.mean(gen.latency_ms)),
        "latency_ms_p95": float(np.percentile(gen.latency_ms, 95)),
        "generation_tokens_per_s": sum(gen.new_tokens) / gen.seconds if gen.seconds else 0.0,
        "refusal_rate": _rate([bool(r) for r, a in zip(refusals, answers, strict=True) if a]),
        "toxicity_rate": _rate([bool(t) for t in toxic]),
    }
    refused = [s.blocked or bool(probes.matches(sets.refusal, s.reply)) for s in served]
    metrics[served_key("refusal_rate")] = _rate([r for r, a in zip(refused, answers, strict=True) if a])
    metrics[served_key("toxicity_rate")] = _rate([bool(probes.matches(sets.toxicity, s.reply)) for s in served])
    for rate in ("exact_match", "toxicity_rate", served_key("toxicity_rate")):
        metrics[statistics.count_key(rate)] = len(rows)
    for rate in ("refusal_rate", served_key("refusal_rate")):
        metrics[statistics.count_key(rate)] = sum(answers)
    for name, values in (("faithfulness", grounded), ("fact_accuracy", accurate)):
        scored = [v for v in values if v is not None]
        if scored:  # rows whose reply (or reference) states a price, a duration, a menu path or an address
            metrics[name], metrics[f"{name}_rows"] = float(np.mean(scored)), len(scored)
    if labelled:
        metrics["intent_accuracy"] = _rate([e["intent"] == e["predicted_intent"] for e in labelled])
        metrics[statistics.count_key("intent_accuracy")] = len(labelled)
    return metrics, examples


def _as_served(served: Served) -> dict[str, Any]:
    return {"served": served.action, "served_reply": served.reply}


def score_probes(
    sets: probes.ProbeSets, replies: dict[str, Generated], served: dict[str, list[Served]]
) -> tuple[dict, list]:
    """Metrics over the probe replies, for the model alone and as served; `replies` and `served` by probe set."""
    examples = []
    for probe, reply, out in zip(sets.pii, replies["pii"].replies, served["pii"], strict=True):
        examples.append({"kind": "pii", "id": probe.id, "prompt": probe.messages[-1]["content"], "reply": reply,
                         "leaked": probes.leaked(reply), "served_leaked": probes.leaked(out.reply),
                         **_as_served(out)})  # fmt: skip
    for probe, reply, out in zip(sets.injection, replies["injection"].replies, served["injection"], strict=True):
        canary = probe.canary or ""
        examples.append({"kind": "injection", "id": probe.id, "prompt": probe.messages[-1]["content"],
                         "reply": reply, "followed": probes.followed(reply, canary),
                         "served_followed": probes.followed(out.reply, canary), **_as_served(out)})  # fmt: skip
    for probe, reply, out in zip(sets.benign, replies["benign"].replies, served["benign"], strict=True):
        examples.append({"kind": "benign", "id": probe.id, "prompt": probe.messages[-1]["content"], "reply": reply,
                         "refusal": probes.matches(sets.refusal, reply),
                         "served_refusal": out.blocked or bool(probes.matches(sets.refusal, out.reply)),
                         **_as_served(out)})  # fmt: skip
    kinds = {"pii": ("pii_leak_rate", "leaked"), "injection": ("injection_follow_rate", "followed"),
             "benign": ("over_refusal_rate", "refusal")}  # fmt: skip
    metrics: dict[str, float] = {}
    for kind, (rate, flag) in kinds.items():
        rows = [e for e in examples if e["kind"] == kind]
        if not rows:
            continue
        metrics[rate] = _rate([bool(e[flag]) for e in rows])
        metrics[served_key(rate)] = _rate([bool(e[f"served_{flag}"]) for e in rows])
        metrics[statistics.count_key(rate)] = metrics[statistics.count_key(served_key(rate))] = len(rows)
    return metrics, examples


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def evaluate(
    params: Params, paths: EvalPaths, own_judge: Endpoint | None = None, probe_sets: Collection[str] = probes.KINDS
) -> dict[str, Any]:
    """Metrics of one model on the test rows and `probe_sets`; with `run_from`, also judged (evaluate.judge;
    `own_judge`: the project's own server when evaluate.judge.base_url is null) and logged (with the base
    comparison and report) to its run."""
    from tasks.evaluation import judge, run_log
    from tasks.tracking.runs import run_id_in

    cfg = params.evaluate
    rows = test_rows(paths.test, cfg.max_rows)
    sets = probes.only(probes.load_probes(paths.probes), probe_sets)
    if paths.baseline and not paths.baseline.is_file():
        raise DataFormatError(f"{paths.baseline}: base-model evaluation not found; run `dvc repro evaluate_base` first")
    run_id = run_id_in(paths.run_from, "train") if paths.run_from else None
    if run_id:
        run_log.mark_evaluation(params, run_id, "running")
    try:
        summary, examples = _measure(params, paths, rows, sets)
        summary["grounded"] = float(params.context.enabled)  # the test rows carry retrieved context
        if run_id:
            summary["mlflow_run_id"] = run_id
            summary["judge_enabled"] = float(cfg.judge.enabled)
            if cfg.judge.enabled:
                labelled = judge.labelled_items(cfg.judge, paths.feedback)
                ep = judge.endpoint(cfg.judge, own_judge)
                summary |= judge.evaluate_with_judge(cfg.judge, ep, examples, labelled, run_id)
            baseline = orjson.loads(paths.baseline.read_bytes()) if paths.baseline else None
            base_examples = list(read_jsonl(paths.baseline_examples)) if paths.baseline_examples else None
            run_log.log_evaluation(run_id, paths, summary, examples, baseline, base_examples)
    except BaseException as err:
        if run_id:
            run_log.mark_evaluation(params, run_id, "failed", f"{type(err).__name__}: {err}")
        raise
    write_jsonl(paths.examples, examples)
    write_json(paths.out, summary)
    return summary


def _measure(params: Params, paths: EvalPaths, rows: list[dict], sets: probes.ProbeSets) -> tuple[dict, list]:
    from tasks.models.embeddings import remembering

    embed = remembering()
    cfg = params.evaluate
    label = "fine-tuned" if paths.adapter else "base"
    dtype = inference_dtype(params.model.inference_dtype)
    model, tokenizer = load_model(paths.base, paths.adapter, dtype)
    gguf = served_gguf(params, paths, model, tokenizer)
    guard = input_guard(params.serving.guard)
    started = time.perf_counter()
    losses = row_losses(model, tokenizer, [row["messages"] for row in rows], cfg)
    ppl = losses.perplexity
    phases = {"perplexity": time.perf_counter() - started, "generation": 0.0}
    generated = 0
    short = cfg.model_copy(update={"max_new_tokens": cfg.probe_max_new_tokens})

    def timed(conversations: list[list[dict]], c: EvaluateParams, desc: str) -> Generated:
        nonlocal generated
        gen = generate(model, tokenizer, conversations, c, desc, gguf)
        phases["generation"] += gen.seconds
        generated += len(conversations)
        return gen

    def replies_and_served(conversations: list[list[dict]], c: EvaluateParams, desc: str) -> tuple[Generated, list]:
        gen = timed(conversations, c, desc)
        again = lambda convs: timed(convs, c, f"{desc} as served").replies  # noqa: E731
        return gen, serve(conversations, gen.replies, guard, again)

    test_gen, test_served = replies_and_served([row["messages"][:-1] for row in rows], cfg, f"evaluate {label}")
    replies, served = {}, {}
    for kind, probe_set in (("pii", sets.pii), ("injection", sets.injection), ("benign", sets.benign)):
        replies[kind], served[kind] = replies_and_served([p.messages for p in probe_set], short, f"{kind} probes")
    # Fairness is measured on what people are served alone: no model-alone replies to redacted names.
    served["fairness"] = serve([p.messages for p in sets.fairness], None, guard,
                               lambda convs: timed(convs, short, "fairness probes as served").replies)  # fmt: skip
    fair_replies = [s.reply for s in served["fairness"]]
    intents = intent_predictions(paths.intents, test_gen.replies + fair_replies, embed)
    test_intents, fair_intents = (intents[: len(rows)], intents[len(rows) :]) if intents else ([], [])
    test_metrics, test_examples = score_test(rows, test_gen, sets, test_intents, test_served, losses)
    probe_metrics, probe_examples = score_probes(sets, replies, served)
    fair_metrics, fair_groups, fair_examples = fairness_score(sets, served["fairness"], fair_intents, embed)
    examples = test_examples + probe_examples + fair_examples
    actions = [s.action for group in (test_served, *served.values()) for s in group]
    summary = {
        "model": label,
        "perplexity": ppl,
        **test_metrics,
        **probe_metrics,
        **statistics.with_intervals({**test_metrics, **probe_metrics}),
        **fair_metrics,
        "fairness_groups": fair_groups,
        **embedding_view.score(examples, embed),
        "rows": len(rows),
        "probes": len(sets.pii) + len(sets.injection) + len(sets.benign) + len(sets.fairness),
        **{f"served_{action}": actions.count(action) for action in ("blocked", "mask", "refuse")},
        "test_md5": md5(paths.test),
        "index_version": _grounded_on(paths.test),
        "dtype": dtype_name(dtype),
        "engine": params.serving.engine,
        **({"gguf_type": params.serving.gguf_type, "gguf_kv_cache": params.serving.gguf_kv_cache} if gguf else {}),
        "seconds": round(time.perf_counter() - started, 1),
        "replies": generated,
        "replies_per_s": generated / phases["generation"] if phases["generation"] else 0.0,
        **{f"seconds_{phase}": round(s, 1) for phase, s in phases.items()},
    }
    summary["seconds_guards_and_scoring"] = round(summary["seconds"] - sum(phases.values()), 1)
    log.info("%s: perplexity %.3f, rougeL %.3f, %d rows in %.0f s: perplexity %.0f s, %d replies in %.0f s "
             "(%.2f/s, %s), guards and scoring %.0f s", label, ppl, summary["rougeL"], len(rows), summary["seconds"],
             phases["perplexity"], generated, phases["generation"], summary["replies_per_s"], summary["dtype"],
             summary["seconds_guards_and_scoring"])  # fmt: skip
    return summary, examples


def served_gguf(params: Params, paths: EvalPaths, model, tokenizer) -> GgufServer | None:
    """With serving.engine llamacpp, the model's GGUF in llama.cpp (replies only: perplexity stays the
    transformers model's, the quantity training minimised)."""
    if params.serving.engine != "llamacpp":
        return None
    cfg = params.evaluate
    context = params.serving.max_input_tokens + max(cfg.max_new_tokens, cfg.probe_max_new_tokens)
    slots = min(cfg.batch_size, params.serving.max_batch)
    gguf = merged_gguf(paths, model, tokenizer, params.serving.gguf_type)
    return GgufServer(gguf, slots, context, kv_cache=params.serving.gguf_kv_cache)


def merged_gguf(paths: EvalPaths, model, tokenizer, gguf_type: str) -> Path:
    """The GGUF of the evaluated model (base, or base + adapter as loaded), from the conversion cache."""
    from tasks.models.gguf import cached_gguf

    if paths.adapter is None:
        return cached_gguf(paths.base, gguf_type)
    with tempfile.TemporaryDirectory(prefix="llmops-merged-") as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        return cached_gguf(Path(tmp), gguf_type)


def fairness_score(
    sets: probes.ProbeSets, served: list[Served], intents: list[str], embed: Callable[[list[str]], np.ndarray]
) -> tuple[dict, dict, list]:
    """tasks/evaluation/fairness.py over the fairness probes' replies as served."""
    replies = [s.reply for s in served]
    refused = [s.blocked or bool(probes.matches(sets.refusal, s.reply)) for s in served]
    return fairness.score(sets.fairness, replies, refused, intents, embed)
