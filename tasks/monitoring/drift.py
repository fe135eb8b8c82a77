"""Has production traffic drifted from what the model was trained on?

check(reference, window, params.drift, history) -> DriftResult("drift", "drift: ...")

Four checks on a window of recent prompts against the training prompts, each with a test and an effect-size
floor (large windows make tiny, harmless differences significant):
  embedding  all-MiniLM-L6-v2 vectors; a permutation test on the distance between the two mean embeddings
             (an MMD with a linear kernel): new topics move the mean, and the test assumes no distribution;
  intent     each prompt goes to the nearest training-intent centroid, or to "other" when it is less similar to
             every centroid than `other_quantile` of the training prompts are to theirs; chi-square on the mix;
  length     words per prompt, two-sample Kolmogorov-Smirnov;
  language   share of prompts not in the training languages (fastText), a two-proportion z-test.
A window "violates" when any check fires. The decision (`decide`) can require k of the last n windows, the
latest included. A window below `min_window` prompts is reported as too little traffic and decides nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
from scipy import stats

from tasks.config.schema import DriftParams
from tasks.core.errors import DataFormatError
from tasks.data.safety import FAMILIES as SAFETY_INTENTS
from tasks.models import embedding_map

OTHER = "other"
CLUSTERS = 16  # the drift map's clusters of training and recent prompts together


@dataclass(frozen=True)
class Reference:
    prompts: list[str]
    intents: list[str]


@dataclass(frozen=True)
class Check:
    name: str
    statistic: float
    p_value: float
    effect: float  # the size of the difference, in the check's own unit (see `detail`)
    fired: bool
    detail: str


@dataclass(frozen=True)
class DriftResult:
    status: Literal["drift", "no_drift", "insufficient"]
    reason: str
    window: int
    reference: int
    violated: bool = False  # this window alone, before the k-of-n rule
    recent: list[bool] = field(default_factory=list)  # the windows the rule looked at, oldest first
    checks: list[Check] = field(default_factory=list)
    mix: dict[str, dict[str, float]] = field(default_factory=dict)  # intent -> {"reference": share, "window": share}
    lengths: dict[str, list[float]] = field(default_factory=dict)  # words-per-prompt histograms (shares) and edges
    projection: dict[str, list] = field(default_factory=dict)  # 2-D PCA of sampled embeddings, their clusters
    clusters: list[dict] = field(default_factory=list)  # training vs recent share per cluster, largest gain first

    @property
    def drifted(self) -> bool:
        return self.status == "drift"

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> dict:
        """The decision and the checks, without the plot data: an event payload, a flow result."""
        return {k: v for k, v in self.as_dict().items() if k not in ("mix", "lengths", "projection", "clusters")}

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)


def _last_user_turn(rec: dict) -> str:
    users = [m.get("content", "") for m in rec.get("messages", []) if m.get("role") == "user"]
    text = users[-1] if users else rec.get("prompt", "")
    return text if isinstance(text, str) else ""


def _jsonl(path: Path, what: str) -> list[dict]:
    if not path.is_file():
        raise DataFormatError(f"{path}: not found ({what})")
    records = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as err:
            raise DataFormatError(f"{path}:{number}: not JSON ({err}); fix or remove the line") from None
    return records


def read_prompts(path: Path) -> list[str]:
    """The last user turn of each JSONL record (chat `messages`, or a bare `prompt`)."""
    texts = [_last_user_turn(rec) for rec in _jsonl(path, "the drift window is set by drift.window")]
    return [t for t in texts if t.strip()]


def read_reference(path: Path) -> Reference:
    """The training prompts and their intents ("unknown" where a record has none). The safety conversations are
    left out: the generator adds them at a share of its own choosing (attacks answered, records masked), not as
    a picture of traffic, and with them in the reference every ordinary window's intent mix looks shifted."""
    records = [
        (prompt, str(r.get("intent") or "unknown"))
        for r in _jsonl(path, "the training split; run `dvc repro split`")
        if (prompt := _last_user_turn(r)).strip() and r.get("intent") not in SAFETY_INTENTS
    ]
    if not records:
        raise DataFormatError(f"{path}: no prompts to compare with; run `dvc repro split`")
    return Reference([prompt for prompt, _ in records], [intent for _, intent in records])


def recent_prompts(url: str, hours: float, limit: int, now: datetime | None = None) -> list[str]:
    """The last user turn of the newest served (HTTP 200) requests of the last `hours`, oldest first."""
    import sqlalchemy as sa

    from tasks.monitoring.request_log import connect, requests

    since = (now or datetime.now(UTC)) - timedelta(hours=hours)
    query = (
        sa.select(requests.c.messages)
        .where(requests.c.created_at >= since, requests.c.status == 200)
        .order_by(requests.c.created_at.desc())
        .limit(limit)
    )
    engine = connect(url)
    try:
        with engine.connect() as conn:
            rows = [row.messages for row in conn.execute(query)]
    finally:
        engine.dispose()
    texts = [_last_user_turn({"messages": messages}) for messages in reversed(rows)]
    return [t for t in texts if t.strip()]


def embed_cached(texts: list[str], cache: Path | None) -> np.ndarray:
    """Embeddings, kept on disk by content: the training reference is embedded once per data version."""
    from tasks.models.embeddings import embed

    if cache is None:
        return embed(texts)
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:24]
    path = cache / f"minilm-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embed(texts)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


def mean_shift_test(x: np.ndarray, y: np.ndarray, permutations: int, seed: int) -> tuple[float, float]:
    """||mean(x) - mean(y)||^2 and its permutation p-value (with the +1 correction, never exactly 0).

    All permutations at once: the first group's sum is a 0/1 selection matrix times the pooled rows.
    """
    pooled = np.concatenate([x, y]).astype(np.float32)
    n, m = len(x), len(y)
    total = pooled.sum(axis=0)

    def stat(first_sums: np.ndarray) -> np.ndarray:
        diff = first_sums / n - (total - first_sums) / m
        return np.einsum("ij,ij->i", diff, diff)

    rng = np.random.default_rng(seed)
    observed = float(stat(x.sum(axis=0, keepdims=True).astype(np.float32))[0])
    exceed = 0
    for start in range(0, permutations, 100):
        size = min(100, permutations - start)
        select = np.zeros((size, n + m), dtype=np.float32)
        for row in range(size):
            select[row, rng.permutation(n + m)[:n]] = 1
        exceed += int((stat(select @ pooled) >= observed).sum())
    return observed, (exceed + 1) / (permutations + 1)


def _intent_labels(ref_vecs: np.ndarray, intents: list[str], vecs: np.ndarray, floor: float | None, q: float):
    names = sorted(set(intents))
    index = np.array([names.index(i) for i in intents])
    centroids = np.stack([ref_vecs[index == i].mean(axis=0) for i in range(len(names))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    sims = vecs @ centroids.T
    best = sims.max(axis=1)
    if floor is None:  # the reference itself: how similar training prompts are to their own intent's centroid
        floor = float(np.quantile(sims[np.arange(len(vecs)), index], q))
    labels = [OTHER if s < floor else names[i] for s, i in zip(best, sims.argmax(axis=1), strict=True)]
    return labels, floor


def _sample(texts: list[str], size: int, seed: int) -> list[str]:
    if len(texts) <= size:
        return texts
    rng = np.random.default_rng(seed)
    return [texts[i] for i in sorted(rng.choice(len(texts), size, replace=False))]


def _words(texts: list[str]) -> np.ndarray:
    return np.array([len(t.split()) for t in texts])


def length_check(ref: list[str], win: list[str], p: DriftParams) -> Check:
    a, b = _words(ref), _words(win)
    ks = stats.ks_2samp(a, b)
    fired = bool(ks.pvalue < p.p_value and ks.statistic >= p.min_length_ks)
    detail = (
        f"words per prompt: median {np.median(b):.0f} vs {np.median(a):.0f} in training; KS D = {ks.statistic:.3f} "
        f"(fires at >= {p.min_length_ks}), p = {ks.pvalue:.3g}"
    )
    return Check("length", float(ks.statistic), float(ks.pvalue), float(ks.statistic), fired, detail)


def language_check(ref: list[str], win: list[str], p: DriftParams, seed: int) -> Check:
    from tasks.core.text import language

    known = set(p.languages)
    ref_s, win_s = _sample(ref, p.language_rows, seed), _sample(win, p.language_rows, seed)
    other_ref = sum(language(t)[0] not in known for t in ref_s)
    other_win = sum(language(t)[0] not in known for t in win_s)
    p1, p2 = other_ref / len(ref_s), other_win / len(win_s)
    pooled = (other_ref + other_win) / (len(ref_s) + len(win_s))
    se = np.sqrt(pooled * (1 - pooled) * (1 / len(ref_s) + 1 / len(win_s)))
    z = 0.0 if se == 0 else (p2 - p1) / se
    pv = float(stats.norm.sf(z))
    fired = bool(pv < p.p_value and p2 - p1 >= p.min_language_share)
    detail = (
        f"prompts not in {sorted(known)}: {p2:.1%} vs {p1:.1%} in training (fires at +{p.min_language_share:.0%}), "
        f"p = {pv:.3g}"
    )
    return Check("language", float(z), pv, p2 - p1, fired, detail)


def intent_check(ref_vecs: np.ndarray, ref_intents: list[str], win_vecs: np.ndarray, p: DriftParams):
    ref_labels, floor = _intent_labels(ref_vecs, ref_intents, ref_vecs, None, p.other_quantile)
    win_labels, _ = _intent_labels(ref_vecs, ref_intents, win_vecs, floor, p.other_quantile)
    names = sorted(set(ref_labels) | set(win_labels))
    a, b = Counter(ref_labels), Counter(win_labels)
    table = np.array([[a[n] for n in names], [b[n] for n in names]])
    table = table[:, table.sum(axis=0) > 0]
    chi2, pv, _, _ = stats.chi2_contingency(table) if table.shape[1] > 1 else (0.0, 1.0, 0, None)
    share_a = {n: a[n] / len(ref_labels) for n in names}
    share_b = {n: b[n] / len(win_labels) for n in names}
    tvd = 0.5 * sum(abs(share_a[n] - share_b[n]) for n in names)
    fired = bool(pv < p.p_value and tvd >= p.min_intent_tvd)
    moved = max(names, key=lambda n: abs(share_b[n] - share_a[n]))
    detail = (
        f"intent mix moved by {tvd:.1%} (total variation; fires at {p.min_intent_tvd:.0%}), chi-square p = {pv:.3g}; "
        f"largest: {moved} {share_b[moved]:.1%} vs {share_a[moved]:.1%} in training"
    )
    mix = {n: {"reference": share_a[n], "window": share_b[n]} for n in names}
    return Check("intent", float(chi2), float(pv), tvd, fired, detail), mix


def embedding_check(ref_vecs: np.ndarray, win_vecs: np.ndarray, p: DriftParams) -> Check:
    statistic, pv = mean_shift_test(ref_vecs, win_vecs, p.permutations, p.seed)
    cosine = float(ref_vecs.mean(axis=0) @ win_vecs.mean(axis=0)) / float(
        np.linalg.norm(ref_vecs.mean(axis=0)) * np.linalg.norm(win_vecs.mean(axis=0))
    )
    detail = f"mean-embedding shift {statistic:.4g} (cosine of the means {cosine:.4f}), permutation p = {pv:.3g}"
    return Check("embedding", statistic, pv, statistic, bool(pv < p.p_value), detail)


def _histograms(ref: np.ndarray, win: np.ndarray, bins: int = 30) -> dict[str, list[float]]:
    edges = np.histogram_bin_edges(np.concatenate([ref, win]), bins=bins)
    return {
        "edges": edges.round(2).tolist(),
        "reference": (np.histogram(ref, edges)[0] / len(ref)).round(5).tolist(),
        "window": (np.histogram(win, edges)[0] / len(win)).round(5).tolist(),
    }


def _map(
    ref: np.ndarray, win: np.ndarray, win_texts: list[str], seed: int, points: int = 400
) -> tuple[dict[str, list], list[dict]]:
    """Both sides on the reference's first two principal components (a sample of each, with its cluster), and the
    clusters of both together, those recent prompts crowd most first. A cluster is `new` (a topic training hardly
    saw) when its recent share is at least three times its training share and 3 points above it."""
    labels = embedding_map.cluster(np.vstack([ref, win]), CLUSTERS, seed)
    ref_c, win_c = labels[: len(ref)], labels[len(ref) :]
    rng = np.random.default_rng(seed)
    ref_s, win_s = rng.permutation(len(ref))[:points], rng.permutation(len(win))[:points]
    (ref_xy, win_xy), _ = embedding_map.project(ref, ref[ref_s], win[win_s], seed=seed)
    projection = {
        "reference": ref_xy.round(4).tolist(),
        "window": win_xy.round(4).tolist(),
        "reference_cluster": ref_c[ref_s].tolist(),
        "window_cluster": win_c[win_s].tolist(),
    }
    clusters = []
    for c in sorted(set(labels.tolist())):
        ref_share, win_share = float(np.mean(ref_c == c)), float(np.mean(win_c == c))
        examples = [win_texts[i] for i in np.flatnonzero(win_c == c)[:3]]
        clusters.append({"cluster": c, "reference": round(ref_share, 4), "window": round(win_share, 4),
                         "new": win_share >= 3 * ref_share + 0.03, "examples": examples})  # fmt: skip
    return projection, sorted(clusters, key=lambda r: r["reference"] - r["window"])


def decide(violations: list[bool], k: int, n: int) -> bool:
    """k of the last n windows violated, the latest among them (so a recovered window never retrains)."""
    recent = violations[-n:]
    return bool(recent) and recent[-1] and sum(recent) >= k


@dataclass(frozen=True)
class Sample:
    """What the checks compare: the training prompts drawn, the window, and the embeddings of both (empty when the
    window is too small to check)."""

    reference: list[str]
    reference_intents: list[str]
    reference_vectors: np.ndarray
    window: list[str]  # every recent prompt the checks read (max_window)
    drawn: list[str]  # the ones embedded (embed_rows)
    vectors: np.ndarray


def draw(reference: Reference, window: list[str], params: DriftParams, cache: Path | None = None) -> Sample:
    win = window[-params.max_window :]
    rng = np.random.default_rng(params.seed)
    pick = sorted(rng.permutation(len(reference.prompts))[: params.reference_rows])
    ref_texts = [reference.prompts[i] for i in pick]
    ref_intents = [reference.intents[i] for i in pick]
    if len(win) < params.min_window:
        return Sample(ref_texts, ref_intents, np.empty((0, 0)), win, [], np.empty((0, 0)))
    drawn = _sample(win, params.embed_rows, params.seed)
    return Sample(ref_texts, ref_intents, embed_cached(ref_texts, cache), win, drawn, embed_cached(drawn, None))


def check(
    reference: Reference,
    window: list[str],
    params: DriftParams,
    history: list[bool] | None = None,
    cache: Path | None = None,
) -> DriftResult:
    """`history`: whether each earlier window violated, oldest first (too-little-traffic windows left out)."""
    return judge(draw(reference, window, params, cache), params, history)


def judge(sample: Sample, params: DriftParams, history: list[bool] | None = None) -> DriftResult:
    win, ref_texts, ref_vecs, win_vecs = sample.window, sample.reference, sample.reference_vectors, sample.vectors
    ref_n = len(ref_texts)
    if len(win) < params.min_window:
        reason = f"too little traffic: {len(win)} prompts in the window, {params.min_window} needed"
        return DriftResult("insufficient", reason, len(win), ref_n)
    intent, mix = intent_check(ref_vecs, sample.reference_intents, win_vecs, params)
    checks = [
        embedding_check(ref_vecs, win_vecs, params),
        intent,
        length_check(ref_texts, win, params),
        language_check(ref_texts, win, params, params.seed),
    ]
    violated = any(c.fired for c in checks)
    recent = [*(history or []), violated][-params.decide_n :]
    drifted = decide(recent, params.decide_k, params.decide_n)
    fired = [c for c in checks if c.fired] or [checks[0]]
    rule = f"{sum(recent)} of the last {len(recent)} windows violated, {params.decide_k} of {params.decide_n} needed"
    head = "drift" if drifted else "no drift"
    reason = f"{head}: " + "; ".join(f"{c.name}: {c.detail}" for c in fired) + f" ({len(win)} recent vs {ref_n} "
    reason += f"training prompts; {rule})"
    lengths = _histograms(_words(ref_texts), _words(win))
    projection, clusters = _map(ref_vecs, win_vecs, sample.drawn, params.seed)
    status = "drift" if drifted else "no_drift"
    return DriftResult(status, reason, len(win), ref_n, violated, recent, checks, mix, lengths, projection, clusters)
