"""The knowledge base: articles that agree with the answers, chunks by heading, the LanceDB index, retrieval."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tasks.config.schema import GenerateParams, IndexParams
from tasks.core.errors import DataFormatError, ModelSourceError
from tasks.core.files import write_jsonl
from tasks.data.synthesize import intent_templates, records, reply_templates
from tasks.evaluation.retrieval import questions, retrieval_quality
from tasks.knowledge import claims, facts
from tasks.knowledge.answer_cache import AnswerCache, Cached, numbers
from tasks.knowledge.articles import articles
from tasks.knowledge.chunks import article_chunks, kb_files
from tasks.knowledge.claims import fact_accuracy, faithfulness
from tasks.knowledge.context import with_context
from tasks.knowledge.index import build
from tasks.knowledge.retrieve import Hit, Retriever, query_text
from tasks.models.embeddings import embed


def test_every_fact_an_answer_quotes_is_in_the_articles_its_conversation_points_at() -> None:
    kb = articles(intent_templates())
    assert len(kb) >= 60
    checked = 0
    for intent, templates in reply_templates().items():
        quoted = {name for t in templates for name in re.findall(r"\{(\w+)\}", t)}
        for kind, names in facts.entity_values().items():
            for name in names:
                picked = {k: v[0] for k, v in facts.entity_values().items()} | {kind: name}
                values = facts.derived(picked)
                text = f"{intent} {name}"
                sources = facts.sources(intent, text, templates)
                context = " ".join(kb[s] for s in sources)
                for slot in quoted & set(values):
                    assert values[slot] in context, (intent, name, slot, sources)
                    checked += 1
    assert checked > 500


def test_generated_answers_quote_the_help_centre_not_random_numbers() -> None:
    """A roaming price, a plan price, a deadline: the same in every conversation that names it."""
    prices: dict[str, set[str]] = {}
    for r in itertools.islice(records(GenerateParams(n_records=1500, seed=3)), 1500):
        if r.get("intent") != "plan_change":
            continue
        for m in r["messages"]:
            if found := re.search(r"The (.+?) plan costs ([\d.]+) EUR", m["content"]):
                prices.setdefault(found[1], set()).add(found[2])
    assert prices and all(len(v) == 1 for v in prices.values()), prices
    assert prices == {k: {facts.helpcentre()["plans"][k]["price"]} for k in prices}


def test_markdown_is_chunked_by_heading_and_long_sections_are_cut(tmp_path: Path) -> None:
    body = " ".join(f"Step {i} of the reset." for i in range(60))
    (tmp_path / "reset.md").write_text(f"# Resetting the box\n\nIntro line.\n\n## Steps\n\n{body}\n\n- one\n- two\n")
    chunks = article_chunks(tmp_path / "reset.md", tmp_path, max_words=100)
    assert [c.id for c in chunks] == ["reset#top", "reset#steps", "reset#steps-2", "reset#steps-3", "reset#steps-4"]
    assert all(c.title == "Resetting the box" and len(c.text.split()) <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks[1:]) == f"{body} one two"
    assert chunks[1].embedded().startswith("Resetting the box. Steps. Step 0 of the reset.")


def test_html_articles_lose_their_scripts_and_navigation(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pin.html").write_text(
        "<html><head><script>var x = 1;</script></head><body><nav>Home | Help</nav><h1>PIN and PUK</h1>"
        "<h2>Blocked SIM</h2><ul><li><p>Enter the PUK from the SIM card holder.</p></li></ul>"
        "<p>Then   choose a new PIN.</p></body></html>"
    )
    [chunk] = article_chunks(tmp_path / "sub" / "pin.html", tmp_path, 180)
    assert (chunk.id, chunk.title, chunk.heading) == ("sub/pin#blocked-sim", "PIN and PUK", "Blocked SIM")
    assert chunk.text == "Enter the PUK from the SIM card holder. Then choose a new PIN."


def test_unreadable_and_missing_knowledge_bases_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no such folder"):
        kb_files(tmp_path / "kb")
    (tmp_path / "kb").mkdir()
    with pytest.raises(DataFormatError, match=r"no \.md or \.html"):
        kb_files(tmp_path / "kb")
    (tmp_path / "kb" / "latin.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin.md: not UTF-8"):
        article_chunks(tmp_path / "kb" / "latin.md", tmp_path / "kb", 180)
    with pytest.raises(ModelSourceError, match="dvc repro index"):
        Retriever(str(tmp_path / "index"), "chunks", embed)


def test_retrieval_finds_the_entity_article_and_a_rebuilt_index_serves_after_refresh(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "roaming-japan.md").write_text("# Roaming in Japan\n\n## Prices\n\nA Travel Day Pass costs 14.99 EUR.\n")
    (kb / "router-fritzbox.md").write_text("# Setting up the FritzBox\n\n## Admin page\n\nOpen http://192.168.178.1.\n")
    p = IndexParams(uri=str(tmp_path / "index"))
    first = build(kb, p)
    retriever = Retriever(p.uri, p.table, embed, refresh_s=0)
    [top] = retriever.search("how much is roaming in Japan per day?", k=1)
    assert (top.id, top.article) == ("roaming-japan#prices", "roaming-japan") and 0 < top.score <= 1
    assert retriever.search("how much is roaming in Japan per day?", k=2, min_score=top.score)[0] == top
    (kb / "roaming-japan.md").write_text("# Roaming in Japan\n\n## Prices\n\nA Travel Day Pass costs 12.99 EUR.\n")
    second = build(kb, p)
    assert second["version"] != first["version"] and second["chunks"] == 2
    [top] = retriever.search("how much is roaming in Japan per day?", k=1)
    assert "12.99" in top.text and retriever.version == second["version"]


def test_context_goes_after_the_system_message_and_the_query_keeps_the_topic() -> None:
    hit = Hit("a#b", "a", "Roaming in Japan", "Prices", "14.99 EUR per day.", 0.8)
    conversation = [{"role": "system", "content": "You are Vodaline's assistant."},
                    {"role": "user", "content": "I'm going to Japan."}, {"role": "assistant", "content": "Great."},
                    {"role": "user", "content": "How much is it?"}]  # fmt: skip
    system, *rest = with_context(conversation, [hit])
    assert (
        system["content"].startswith("You are Vodaline's assistant.")
        and "[1] Roaming in Japan > Prices" in system["content"]
    )
    assert rest == conversation[1:]
    assert query_text(conversation, 2) == "I'm going to Japan.\nHow much is it?"
    assert with_context(conversation[1:], [])[0]["role"] == "system"


def test_the_generated_help_centre_answers_held_out_questions(tmp_path: Path, kb_index: Path) -> None:
    """A regression floor for the retrieval bench: questions of a seed the index never saw, by source article."""
    rows = [r for r in itertools.islice(records(GenerateParams(n_records=900, seed=41)), 900) if r.get("intent")]
    write_jsonl(tmp_path / "test.jsonl", rows)
    asked = questions(tmp_path / "test.jsonl")
    assert len(asked) > 500
    figures = retrieval_quality(Retriever(str(kb_index / "index"), "chunks", embed), asked)
    assert figures["hit@3"] >= 0.85 and figures["mrr"] >= 0.75, figures
    assert figures["per_intent"]["roaming_charges"]["hit@3"] >= 0.8 and figures["questions"] == len(asked)


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_answer_cache_reuses_only_what_is_similar_enough_under_the_same_key(monkeypatch) -> None:
    cache = AnswerCache(0.95, max_entries=3, ttl_s=60)
    key = ("v1", "p1", "i1", "", "")
    cache.add(key, unit(1, 0, 0), Cached("Go to Settings.", "req-1", 4, 0.8))
    hit = cache.lookup(key, unit(1, 0.05, 0))
    assert hit is not None and hit.entry.request_id == "req-1" and hit.similarity >= 0.95
    assert cache.lookup(key, unit(1, 0.5, 0)) is None  # similar, not enough
    assert cache.lookup(("v2", "p1", "i1", "", ""), unit(1, 0, 0)) is None  # a new model version starts empty
    for i in range(3):
        cache.add(("v2", "p1", "i1", "", ""), unit(0, 1, i), Cached(f"a{i}", f"r{i}", 1, 0.1))
    assert len(cache) == 3 and cache.lookup(key, unit(1, 0, 0)) is None  # the old version's entries went first
    clock = [1000.0]
    monkeypatch.setattr("tasks.knowledge.answer_cache.time.monotonic", lambda: clock[0])
    fresh = AnswerCache(0.95, 10, ttl_s=60)
    fresh.add(key, unit(1, 0, 0), Cached("x", "r", 1, 0.1))
    clock[0] += 61
    assert fresh.lookup(key, unit(1, 0, 0)) is None
    assert numbers("A refund of 12.50 EUR for my Moto G54") == {"12.50", "54"}


def test_facts_are_amounts_durations_addresses_and_menu_steps() -> None:
    reply = ("In Japan a Travel Day Pass costs 14.99 EUR per day; disputes take 10 working days under "
             "My Vodaline > Bills > Usage abroad, and the router is at http://192.168.178.1.")  # fmt: skip
    assert claims.facts(reply) == {"14.99 eur", "10 working days", "vodaline > bills", "bills > usage",
                            "http://192.168.178.1"}  # fmt: skip
    context = "Roaming in Japan: 14.99 EUR per day. Charges are under My Vodaline > Bills > Usage abroad."
    assert faithfulness(reply, context) == 3 / 5  # the deadline and the address come from nowhere
    assert fact_accuracy("It costs 12.99 EUR per day, see My Vodaline > Bills.", context) == 1 / 3
    assert faithfulness("Happy to help!", context) is None and fact_accuracy("Sure.", "Thanks!") is None


def test_split_rows_get_the_context_the_server_would_retrieve(tmp_path: Path, kb_index: Path) -> None:
    """Rows whose sources were taken out and whose answer states what the context no longer holds say they do not
    know; every other answer is kept, and the test rows' context is what retrieval returns."""
    from tasks.config.schema import ContextParams, RetrievalParams
    from tasks.data.grounding import write_grounded

    support = [r for r in itertools.islice(records(GenerateParams(n_records=400, seed=5)), 400)
               if r.get("intent") in ("roaming_charges", "plan_change", "router_setup")]  # fmt: skip
    split = tmp_path / "split"
    for name in ("train", "validation", "test", "intents"):
        write_jsonl(split / f"{name}.jsonl", support if name != "intents" else [{"intent": "x", "text": "y"}])
    retriever = Retriever(str(kb_index / "index"), "chunks", embed)
    c = ContextParams(enabled=True, missing_rate=0.5)
    summary = write_grounded(split, tmp_path / "grounded", retriever, RetrievalParams(top_k=3), c)
    train, test = summary["train"], summary["test"]
    assert train["rows"] == len(support) and train["kept"] + train["unknown"] + train["ungrounded"] == len(support)
    assert 0 < train["unknown"] <= train["sources_removed"] < len(support)
    assert "sources_removed" not in test and "unknown" not in test and summary["index_version"] == retriever.version
    assert test["kept"] >= 0.7 * len(support) and test["chunks"] > len(support)
    rows = [json.loads(line) for line in (tmp_path / "grounded" / "train.jsonl").read_text().splitlines()]
    assert all(r["messages"][0]["role"] == "system" and "help centre sections" in r["messages"][0]["content"]
               for r in rows)  # fmt: skip
    for row in (r for r in rows if r["messages"][-1]["content"] == c.unknown_reply):
        original = next(s for s in support if s["id"] == row["id"])["messages"][-1]["content"]
        given = " ".join(m["content"] for m in row["messages"][:-1]).lower()
        assert not all(f in given for f in claims.facts(original))
    copied = write_grounded(split, tmp_path / "copied", None, RetrievalParams(), ContextParams())
    assert copied["train"] == {"rows": len(support)}
    assert (tmp_path / "copied" / "train.jsonl").read_text() == (split / "train.jsonl").read_text()


def two_articles(kb: Path, price: str = "14.99") -> Path:
    kb.mkdir(exist_ok=True)
    (kb / "roaming-japan.md").write_text(f"# Roaming in Japan\n\n## Prices\n\nA Travel Day Pass costs {price} EUR.\n")
    (kb / "wifi.md").write_text("# Wi-Fi\n\n## Password\n\nOpen My Vodaline > Router > Wi-Fi to change it.\n")
    return kb


def test_the_server_retrieves_from_the_index_version_the_champion_passed_on(tmp_path: Path) -> None:
    """Each build is a new version of one LanceDB table; the retriever serves the passed one by time travel until
    the gate has passed a newer one, and the newest where none passed (or the passed one is gone)."""
    live = IndexParams(uri=str(tmp_path / "index"))
    passed = build(two_articles(tmp_path / "kb"), live)["version"]
    newest = build(two_articles(tmp_path / "kb", "17.49"), live)["version"]
    retriever = Retriever(live.uri, "chunks", embed, refresh_s=0.0)
    assert retriever.version == newest
    retriever.follow(passed)
    [hit] = retriever.search("day pass price in Japan", 1)
    assert retriever.version == passed and "14.99" in hit.text
    retriever.refresh_if_due()  # a reopen keeps the passed version
    assert retriever.version == passed and "14.99" in retriever.search("day pass price in Japan", 1)[0].text
    retriever.follow(newest)  # the recheck passed on the new build
    assert retriever.version == newest and "17.49" in retriever.search("day pass price in Japan", 1)[0].text
    retriever.follow("0123456789abcdef")  # a version the table no longer holds: the newest, with a warning
    assert retriever.version == newest
    retriever.follow(None)
    assert retriever.version == newest


def test_a_pinned_index_moves_only_when_the_live_one_did(tmp_path: Path) -> None:
    """`llmops pin-index` copies the live table; a retrain's refresh copies again only when the live version moved,
    so an unchanged pin is unchanged for DVC too."""
    from tasks.config.schema import ContextParams, Params
    from tasks.knowledge import pin

    kb = two_articles(tmp_path / "kb")
    live = IndexParams(uri=str(tmp_path / "live"))
    p = Params(index=live, context=ContextParams(pinned_index=str(tmp_path / "pin")))
    with pytest.raises(ModelSourceError, match="dvc repro index"):
        pin.pin(p)
    build(kb, live)
    assert pin.pinned(p) is None and pin.refresh(p) is None  # nothing pinned: the training rows follow the live one
    record = pin.pin(p)
    assert record["version"] == Retriever(live.uri, "chunks", embed).version and pin.pinned(p) == record
    assert pin.pinned_retriever(p, embed).version == record["version"]
    assert pin.refresh(p) == record  # the same version: not copied again

    moved = build(two_articles(kb, "17.49"), live)["version"]
    assert pin.pinned(p)["version"] == record["version"] != moved  # the pin stays until a retrain refreshes it
    assert pin.refresh(p)["version"] == moved
    [hit] = Retriever(p.context.pinned_index, "chunks", embed).search("day pass price in Japan", 1)
    assert "17.49" in hit.text
    shutil.rmtree(tmp_path / "pin" / "chunks.lance")  # pin.json without its table
    with pytest.raises(ModelSourceError, match=r"the pin is broken: pin again with `llmops pin-index`"):
        pin.pinned_retriever(p, embed)
    pin.unpin(p)
    assert pin.pinned(p) is None and pin.pinned_retriever(p, embed) is None
