"""`llmops` commands that DVC stages run: one thin call into tasks/ each, and a one-line result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import ParamsOpt, app, load, out_console
from tasks.data.formats import FEEDBACK_SNAPSHOT


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="where to write the raw dataset")] = Path("data/raw/support.jsonl"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the seeded telecom support dataset (with its deliberate dirt)."""
    from tasks.data.synthesize import write_dataset

    summary = write_dataset(load(params).generate, out)
    kept = ", ".join(f"{n} {intent}" for intent, n in summary["safety"].items())
    out_console.print(f"wrote {summary['records']} records ({summary['malformed_lines']} malformed; safety: {kept}) "
                      f"to {out}")  # fmt: skip


@app.command()
def probes(
    out: Annotated[Path, typer.Option(help="folder for the generated probe sets")] = Path("data/probes/generated"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the seeded evaluation probes: injection, PII and benign sets, in families."""
    from tasks.data.probe_synth import write_probes

    summary = write_probes(load(params).probes, out)
    for name, s in summary.items():
        families = ", ".join(f"{f} {n}" for f, n in s["families"].items())
        out_console.print(f"{name}: {s['probes']} probes ({families})")
    out_console.print(f"-> {out}")


@app.command()
def kb(
    out: Annotated[Path, typer.Option(help="folder for the help centre's Markdown articles")] = Path("data/kb"),
) -> None:
    """Write the help centre's articles from the facts the generated answers quote (docs/knowledge.md)."""
    from tasks.data.synthesize import intent_templates
    from tasks.knowledge.articles import write_kb

    summary = write_kb(intent_templates(), out)
    out_console.print(f"wrote {summary.pop('articles')} articles ({', '.join(f'{n} {k}' for k, n in summary.items())})"
                      f" to {out}")  # fmt: skip


@app.command()
def index(
    kb: Annotated[Path | None, typer.Option(help="the articles (default: index.kb)")] = None,
    metrics: Annotated[Path, typer.Option(help="chunks, tokens and build rate (JSON)")] = Path(
        "data/reports/index.json"
    ),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Chunk the knowledge base by heading, embed it with MiniLM and write the LanceDB table at index.uri."""
    from tasks.core.files import write_json
    from tasks.knowledge.index import build

    p = load(params).index
    figures = build(kb or Path(p.kb), p)
    write_json(metrics, figures)
    out_console.print(f"indexed {figures['chunks']} chunks ({figures['tokens']} tokens) of {figures['articles']} "
                      f"articles at {figures['chunks_per_s']} chunks/s -> {p.uri} "
                      f"(version {figures['version']})")  # fmt: skip


@app.command()
def retrieval(
    test: Annotated[Path, typer.Option(help="the test split")] = Path("data/split/test.jsonl"),
    metrics: Annotated[Path, typer.Option(help="hit@k and MRR, overall and per intent (JSON)")] = Path(
        "data/reports/retrieval.json"
    ),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Measure the index on the test split: is a question's source article among the top chunks?"""
    from tasks.core.files import write_json
    from tasks.evaluation.retrieval import questions, retrieval_quality
    from tasks.knowledge.retrieve import Retriever
    from tasks.models.embeddings import embed

    p = load(params).index
    figures = retrieval_quality(Retriever(p.uri, p.table, embed), questions(test))
    write_json(metrics, figures)
    out_console.print(f"{figures['questions']} questions: hit@1 {figures.get('hit@1')}, hit@3 {figures.get('hit@3')}, "
                      f"MRR {figures.get('mrr')} -> {metrics}")  # fmt: skip


@app.command()
def guard(
    corpus: Annotated[Path, typer.Option(help="where to write the labelled corpus")] = Path(
        "data/guard/generated/corpus.jsonl"
    ),
    out: Annotated[Path, typer.Option(help="folder for the classifier")] = Path("models/guard"),
    metrics: Annotated[Path, typer.Option(help="cross-validation and test figures (JSON)")] = Path(
        "data/reports/guard.json"
    ),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Train the input guard's injection classifier: corpus, threshold by cross-validation, fit, test by family."""
    from tasks.core.files import write_json
    from tasks.guard.build import build, track
    from tasks.guard.corpus import write_corpus
    from tasks.models.embeddings import embed

    p = load(params)
    counts = write_corpus(p.guard_model, corpus)
    out_console.print(f"corpus: {', '.join(f'{k} {v}' for k, v in counts.items())} -> {corpus}")
    figures = build(p, corpus, out, embed)
    write_json(metrics, figures)
    run_id = track(p, out, figures, metrics)
    test, held = figures["test"], figures["heldout_families"]
    out_console.print(
        f"threshold {figures['threshold']:.3f} (cross-validated FPR {figures['cross_validation']['fpr']}); "
        f"test recall {test['recall']}, FPR {test['fpr']}; {figures['ms_per_screen']} ms per screen"
    )
    if held:
        out_console.print(f"held-out families {', '.join(p.guard_model.holdout_families)}: recall {held['recall']}")
    out_console.print(f"-> {out} (MLflow run {run_id}, model {p.guard_model.model_name})")


@app.command()
def traffic(
    out: Annotated[Path, typer.Option(help="where to write the traffic set")] = Path("data/traffic/shifted.jsonl"),
    n: Annotated[int, typer.Option(min=1)] = 1000,
    seed: int = 1,
    shift_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.2,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write production-like prompts (the training data's intent and asker mix) with a share about new products."""
    from tasks.data.synthesize import write_traffic

    write_traffic(n, seed, shift_share, out, load(params).generate)
    out_console.print(f"wrote {n} prompts ({shift_share:.0%} shifted) to {out}")


@app.command("base-model")
def base_model(
    out: Annotated[Path, typer.Option(help="materialised model directory")] = Path("models/base"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Materialise model.base (shipped GGUF, tiny, local dir or hub id) as safetensors + tokenizer."""
    from tasks.models.base_model import materialize

    info = materialize(load(params).model.base, out)
    out_console.print(f"base model {info['source']!r}: {info['parameters']:,} parameters -> {out}")


@app.command()
def prepare(
    inputs: Annotated[list[Path], typer.Argument(help="raw files: .jsonl, .json, .csv, .parquet")],
    out: Annotated[Path, typer.Option(help="output directory")] = Path("data/prepared"),
    model_dir: Annotated[Path, typer.Option(help="materialised base model (tokenizer)")] = Path("models/base"),
    feedback: Annotated[Path | None, typer.Option(help="the folder `llmops feedback` snapshots into")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Load, normalise, scrub PII, filter and deduplicate; quarantine every dropped row with its reason."""
    from tasks.data.prepare import prepare as run

    cfg = load(params)
    summary = run(inputs, out, cfg.prepare, model_dir, feedback)
    reasons = ", ".join(f"{k}={v}" for k, v in summary["dropped"].items()) or "none"
    out_console.print(
        f"prepare: {summary['rows_in']} rows in, {summary['rows_kept']} kept, "
        f"{summary['rows_dropped']} quarantined ({reasons}) -> {out}"
    )


@app.command()
def validate(
    data: Annotated[Path, typer.Option(help="prepared records")] = Path("data/prepared/records.jsonl"),
    reports: Annotated[Path, typer.Option(help="report directory")] = Path("data/reports"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Run the great-expectations suite built from params; fail naming each broken expectation."""
    from tasks.data.validate import validate as run

    cfg = load(params)
    result = run(data, reports, cfg.validate_, cfg.prepare)
    out_console.print(
        f"validate: {result['passed']}/{result['evaluated']} expectations passed; report {reports / 'validation.html'}"
    )


@app.command()
def split(
    data: Annotated[Path, typer.Option(help="prepared records")] = Path("data/prepared/records.jsonl"),
    out: Annotated[Path, typer.Option(help="output directory")] = Path("data/split"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Deterministic train/validation/test split, stratified by intent, no duplicate across splits."""
    from tasks.data.split import split as run

    cfg = load(params)
    summary = run(data, out, cfg.split, cfg.prepare)
    sizes = ", ".join(f"{k}={v}" for k, v in summary["rows"].items())
    out_console.print(f"split: {sizes} ({summary['groups']} duplicate-free groups) -> {out}")


@app.command()
def context(
    data: Annotated[Path, typer.Option(help="split directory")] = Path("data/split"),
    out: Annotated[Path, typer.Option(help="grounded split directory")] = Path("data/grounded"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Put the chunks the server would retrieve into each split row (context.enabled), else copy the rows."""
    from tasks.data.grounding import write_grounded
    from tasks.knowledge.pin import pinned_retriever
    from tasks.knowledge.retrieve import Retriever
    from tasks.models.embeddings import embed

    p = load(params)
    retriever = Retriever(p.index.uri, p.index.table, embed) if p.context.enabled else None
    pin = pinned_retriever(p, embed) if retriever else None
    summary = write_grounded(data, out, retriever, p.serving.retrieval, p.context, pinned=pin)
    parts = ", ".join(f"{s} {summary[s]['rows']}" + (f" ({summary[s].get('unknown', 0)} unknown)" if p.context.enabled
                      else "") for s in ("train", "validation", "test"))  # fmt: skip
    out_console.print(f"{'grounded' if p.context.enabled else 'copied'}: {parts} -> {out}"
                      + (f" (training rows on the pinned index {pin.version})" if pin else ""))  # fmt: skip


@app.command("pin-index")
def pin_index(
    clear: Annotated[bool, typer.Option(help="unpin: training rows follow the live index again")] = False,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Ground training rows on a copy of today's index: a help-centre edit then re-evaluates without retraining."""
    from tasks.knowledge.pin import pin, unpin

    p = load(params)
    if clear:
        unpin(p)
        out_console.print(f"unpinned: training rows follow {p.index.uri} again")
        return
    record = pin(p)
    out_console.print(f"pinned index version {record['version']} ({record['chunks']} chunks) from {record['source']} "
                      f"-> {p.context.pinned_index}; `dvc repro` grounds training rows on it")  # fmt: skip


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="split directory (train.jsonl, validation.jsonl)")] = Path("data/split"),
    base: Annotated[Path, typer.Option(help="materialised base model")] = Path("models/base"),
    out: Annotated[Path, typer.Option(help="LoRA adapter directory")] = Path("models/adapter"),
    metrics: Annotated[Path, typer.Option(help="metrics summary (DVC metrics)")] = Path("data/reports/train.json"),
    history: Annotated[Path, typer.Option(help="per-step history (DVC plots)")] = Path(
        "data/reports/train_history.csv"
    ),
    checkpoints: Annotated[Path, typer.Option(help="resumable checkpoints")] = Path("models/checkpoints"),
    warm_start: Annotated[Path, typer.Option(help="@champion's adapter (llmops warm-start)")] = Path(
        "models/warm_start"
    ),
    params: ParamsOpt = Path("params.yaml"),
    join: Annotated[
        bool, typer.Option(help="on the other nodes of a train.nodes run: start this node's ranks as it says")
    ] = False,
) -> None:
    """LoRA fine-tuning on DeepSpeed ranks; resumes from the last checkpoint after a crash; tracked in MLflow."""
    from tasks.training import launcher

    if join:
        ranks = launcher.join(load(params))
        out_console.print(f"train --join: this node's {ranks} rank(s) finished; the first node publishes the run")
        return
    paths = launcher.TrainPaths(base, data, out, metrics, history, checkpoints, warm_start)
    summary = launcher.train(load(params), paths)
    out_console.print(
        f"train: {summary['steps']} steps, val_loss {summary['initial_val_loss']} -> {summary['val_loss']}, "
        f"{summary['tokens_per_s']} tokens/s -> {out}; MLflow run {summary['mlflow_run_id']} ({summary['model_uri']})"
    )


@app.command()
def evaluate(
    out: Annotated[Path, typer.Option(help="metrics (DVC metrics); per-example rows go beside it")] = Path(
        "data/reports/eval.json"
    ),
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter; omit to evaluate the base model")] = None,
    baseline: Annotated[Path | None, typer.Option(help="the base model's metrics, for comparison")] = None,
    run_from: Annotated[Path | None, typer.Option(help="training summary naming the MLflow run to log to")] = None,
    report_html: Annotated[Path | None, typer.Option("--report", help="HTML report to write")] = None,
    data: Annotated[Path, typer.Option(help="split directory (test.jsonl, intents.jsonl)")] = Path("data/split"),
    base: Annotated[Path, typer.Option(help="materialised base model")] = Path("models/base"),
    probes: Annotated[Path, typer.Option(help="probe sets")] = Path("data/probes"),
    feedback: Annotated[Path, typer.Option(help="feedback snapshot: its labels calibrate the judge")] = (
        FEEDBACK_SNAPSHOT
    ),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Test-split metrics and safety probes; with --run-from, judged and logged to the training run for the gate.

    With evaluate.judge.base_url null, the judge is this project's server on loopback serving the base model."""
    from contextlib import nullcontext

    from serving.local import judge_server
    from tasks.evaluation.evaluate import evaluate as run
    from tasks.evaluation.judge import describe
    from tasks.evaluation.paths import EvalPaths
    from tasks.evaluation.probes import KINDS, measuring

    p = load(params)
    paths = EvalPaths(data / "test.jsonl", data / "intents.jsonl", base, probes, out, adapter, baseline, run_from,
                      report_html, feedback)  # fmt: skip
    every = adapter is not None or p.evaluate.base_probes == "all"
    probe_sets = KINDS if every else measuring(p.gate.min_gain_over_base)
    with judge_server(p, base) if run_from is not None else nullcontext() as own_judge:
        s = run(p, paths, own_judge, probe_sets)
    intent = f", intent accuracy {s['intent_accuracy']:.3f}" if "intent_accuracy" in s else ""
    rates = (("PII leak", "pii_leak_rate"), ("injection follow", "injection_follow_rate"))
    safety = "".join(f", {label} {s[key]:.2f} ({s[f'{key}_served']:.2f} as served)" for label, key in rates if key in s)
    out_console.print(
        f"evaluate ({s['model']}, {s['dtype']}): perplexity {s['perplexity']:.3f}, ROUGE-L {s['rougeL']:.3f}, "
        f"BLEU {s['bleu']:.3f}"
        f"{intent}{safety} -> {out}"
    )
    for line in describe(s):
        out_console.print(f"judge {line}")


@app.command()
def parity(
    out: Annotated[Path, typer.Option(help="the verdict (DVC metrics)")] = Path("data/reports/parity.json"),
    served: Annotated[Path, typer.Option(help="the evaluate stage's metrics (the served engine's replies)")] = Path(
        "data/reports/eval.json"
    ),
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter of the evaluated model; omit for the base")] = None,
    data: Annotated[Path, typer.Option(help="split directory (test.jsonl, intents.jsonl)")] = Path("data/split"),
    base: Annotated[Path, typer.Option(help="materialised base model")] = Path("models/base"),
    probes: Annotated[Path, typer.Option(help="probe sets")] = Path("data/probes"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """serving.engine llamacpp: the GGUF's replies against the transformers model's (gate.parity), logged to the
    evaluated run with the GGUF; `llmops deploy` refuses a model whose GGUF failed (this command exits 0 either way,
    like evaluate). With serving.engine transformers it only says there is nothing to compare."""
    from tasks.evaluation.parity import ParityPaths, check
    from tasks.evaluation.paths import EvalPaths

    paths = ParityPaths(EvalPaths(data / "test.jsonl", data / "intents.jsonl", base, probes, served, adapter), out)
    s = check(load(params), paths)
    out_console.print(f"parity: {s['status']}: {s['reason']} -> {out}")


@app.command("warm-start")
def warm_start_export(
    out: Annotated[Path, typer.Option(help="the folder the train stage starts from")] = Path("models/warm_start"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Copy @champion's LoRA adapter where the train stage finds it (the retrain flow does this first).

    Training continues from it for train.warm_start_steps when it fits the base model and params.lora."""
    from tasks.training.warm_start import export

    said = export(load(params), out)
    out_console.print(f"warm-start: {said['why']}")


@app.command("feedback")
def feedback_export(
    out: Annotated[Path, typer.Option(help="the snapshot folder the prepare stage reads")] = FEEDBACK_SNAPSHOT,
    track: Annotated[bool, typer.Option(help="`dvc add` the snapshot (then commit its .dvc file)")] = True,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Snapshot rated and corrected requests (the request log's, and reviews on the traces in MLflow) as training
    records, tracked by DVC.

    Run it (or the retrain flow, which does) before `dvc repro`: the pipeline reads the snapshot, never the live
    database, so `dvc repro` and `dvc exp run` depend only on tracked files."""
    from tasks.monitoring.feedback import describe, export, traces_of
    from tasks.monitoring.request_log import url_of
    from tasks.pipeline.workspace import track as dvc_add

    p = load(params)
    s = export(url_of(p.serving), out, traces_of(p))
    if track and s["exported_at"]:
        dvc_add(out, Path.cwd(), lambda _: None)
    skipped = ", ".join(f"{k}: {v}" for k, v in s["skipped"].items()) or "none"
    written = f" -> {out}" if s["changed"] else ""
    out_console.print(f"feedback: {describe(s)}{written}; from {s['rated_requests']} rated requests, skipped "
                      f"{skipped}")  # fmt: skip
