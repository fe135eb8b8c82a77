"""The evaluation's embedding map: where replies run intents together, and a group of askers whose replies sit apart."""

from __future__ import annotations

from tasks.evaluation import embedding_view, report
from tasks.evaluation.gate import decide
from tests.unit.evaluation.gates import only
from tests.unit.evaluation.test_fairness import REFUSAL, bag_of_words, fair_model, probes

TOPICS = {"roaming": "roaming abroad charges in spain", "billing": "my bill was charged twice this month",
          "sim": "new sim card for my phone", "speed": "home internet is very slow tonight"}  # fmt: skip


def examples(model, confuse: frozenset[str] = frozenset()) -> list[dict]:
    """Test rows per topic whose reply answers its own topic, or billing's for the topics in `confuse`; and the
    fairness probes' replies from `model`."""
    tests = []
    for i in range(40):
        intent = list(TOPICS)[i % 4]
        answered = "billing" if intent in confuse else intent
        tests.append({"kind": "test", "id": f"t{i}", "intent": intent, "predicted_intent": answered,
                      "prompt": f"question {i}: {TOPICS[intent]}", "reference": TOPICS[intent],
                      "reply": f"about {TOPICS[answered]} here is help {i % 3}", "rougeL": 0.2})  # fmt: skip
    fair = [{"kind": "fairness", "id": p.id, "group": p.group, "served_reply": model(p),
             "prompt": p.messages[-1]["content"]} for p in probes()]  # fmt: skip
    return tests + fair


def refuses_one_group(p) -> str:
    return REFUSAL if p.group == "origin:arabic" else fair_model(p)


def test_replies_that_answer_another_intent_show_as_mixed_clusters_and_confusions() -> None:
    clean = embedding_view.score(examples(fair_model), bag_of_words)
    mixed = embedding_view.score(examples(fair_model, frozenset({"roaming"})), bag_of_words)
    assert clean["prompt_cluster_purity"] == clean["reply_cluster_purity"] == 1.0
    assert clean["intent_confusions"] == []
    assert mixed["reply_cluster_purity"] < 0.9
    assert mixed["intent_confusions"] == [{"intent": "roaming", "answered": "billing", "count": 10, "share": 1.0}]
    with_roaming = [dict(c["labels"]) for c in mixed["reply_clusters"] if "roaming" in dict(c["labels"])]
    assert with_roaming and all("billing" in labels for labels in with_roaming)  # answered alike, clustered alike


def test_a_group_that_gets_other_replies_sits_apart_on_the_map() -> None:
    fair = embedding_view.score(examples(fair_model), bag_of_words)
    biased = embedding_view.score(examples(refuses_one_group), bag_of_words)
    assert fair["fairness_group_separation"] < 0.1
    assert biased["fairness_group_separation"] > 0.9 and biased["fairness_group_separation_group"] == "origin:arabic"
    gate = only(max={"fairness_group_separation": 0.5})
    assert decide(fair, None, gate).passed
    decision = decide(biased, None, gate)
    assert [c.metric for c in decision.failed_checks] == ["fairness_group_separation"]


def test_the_report_draws_the_map_and_lists_the_clusters() -> None:
    rows = examples(refuses_one_group, frozenset({"roaming"}))
    summary = {"rows": 40, "probes": 220, "test_md5": "x", "perplexity": 9.0, "rougeL": 0.2,
               **embedding_view.score(rows, bag_of_words)}  # fmt: skip
    images = report.plots(summary, rows, None, None)
    assert images["embedding_map.png"].startswith(b"\x89PNG")
    assert all("reply_xy" in e for e in rows) and all("prompt_xy" in e for e in rows if e["kind"] == "test")
    page = report.html("run-1", summary, rows, None, None, images)
    assert "Where replies run together" in page and "billing (0." in page and "origin:arabic" in page
