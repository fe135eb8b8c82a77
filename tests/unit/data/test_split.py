from collections import Counter
from pathlib import Path

import orjson
import pytest

from tasks.config.schema import PrepareParams, SplitParams
from tasks.core.errors import DataFormatError
from tasks.core.files import read_jsonl, write_jsonl
from tasks.core.text import dedup_key
from tasks.data.dedup import NearDuplicateIndex, signatures
from tasks.data.split import SPLITS, prompt_text, split

PREP = PrepareParams()
INTENTS = ["billing", "roaming", "router", "cancel"]
TOPICS = ["invoice", "data", "wifi", "contract", "payment", "signal", "password", "number", "speed", "refund"]


def _records(n: int = 600) -> list[dict]:
    recs = []
    for i in range(n):
        intent = INTENTS[i % len(INTENTS)]
        words = " ".join(TOPICS[(i * k) % len(TOPICS)] for k in range(1, 7))
        prompt = f"Customer {i} asks about {intent}: {words} issue number {i * 7919 % 1000}"
        recs.append(
            {
                "id": f"r{i}",
                "intent": intent,
                "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"Answer {i}"}],
            }
        )
    # duplicates a prepare stage with dedup switched off would let through
    for i in range(0, 60, 3):
        src = recs[i]
        recs.append(
            {
                **src,
                "id": f"dup{i}",
                "messages": [
                    {"role": "user", "content": prompt_text(src).upper() + "!"},
                    {"role": "assistant", "content": "other"},
                ],
            }
        )
        recs.append(
            {
                **src,
                "id": f"near{i}",
                "messages": [
                    {"role": "user", "content": prompt_text(src) + " please help"},
                    {"role": "assistant", "content": "x"},
                ],
            }
        )
    return recs


@pytest.fixture
def split_dir(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "records.jsonl", _records())
    split(tmp_path / "records.jsonl", tmp_path / "split", SplitParams(), PREP)
    return tmp_path / "split"


def _load(d: Path) -> dict[str, list[dict]]:
    return {name: list(read_jsonl(d / f"{name}.jsonl")) for name in SPLITS}


def test_every_record_in_exactly_one_split(split_dir: Path) -> None:
    parts = _load(split_dir)
    ids = [r["id"] for rows in parts.values() for r in rows]
    assert sorted(ids) == sorted(r["id"] for r in _records())


def test_no_exact_or_near_duplicate_prompt_crosses_splits(split_dir: Path) -> None:
    parts = _load(split_dir)
    keys = {name: {dedup_key(prompt_text(r)) for r in rows} for name, rows in parts.items()}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["validation"]
    assert not keys["validation"] & keys["test"]
    index = NearDuplicateIndex(0.7, PREP.num_perm)
    train = [prompt_text(r) for r in parts["train"]]
    for i, sig in enumerate(signatures(train, PREP.num_perm, PREP.shingle_words)):
        index.add(str(i), sig)
    held_out = [prompt_text(r) for r in parts["validation"] + parts["test"]]
    for text, sig in zip(held_out, signatures(held_out, PREP.num_perm, PREP.shingle_words), strict=True):
        assert index.find(sig) is None, text


def test_stratified_by_intent(split_dir: Path) -> None:
    parts = _load(split_dir)
    total = sum(len(v) for v in parts.values())
    assert len(parts["test"]) / total == pytest.approx(0.1, abs=0.02)
    assert len(parts["validation"]) / total == pytest.approx(0.1, abs=0.02)
    test_intents = Counter(r["intent"] for r in parts["test"])
    assert set(test_intents) == set(INTENTS)
    assert max(test_intents.values()) - min(test_intents.values()) <= 4


def test_same_seed_same_split_other_seed_other_split(tmp_path: Path, split_dir: Path) -> None:
    data = tmp_path / "records.jsonl"
    split(data, tmp_path / "again", SplitParams(), PREP)
    split(data, tmp_path / "other", SplitParams(seed=99), PREP)
    for name in SPLITS:
        assert (split_dir / f"{name}.jsonl").read_bytes() == (tmp_path / "again" / f"{name}.jsonl").read_bytes()
    assert (split_dir / "test.jsonl").read_bytes() != (tmp_path / "other" / "test.jsonl").read_bytes()


def test_missing_or_empty_input(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="run `dvc repro prepare`"):
        split(tmp_path / "none.jsonl", tmp_path / "out", SplitParams(), PREP)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DataFormatError, match="no records to split"):
        split(tmp_path / "empty.jsonl", tmp_path / "out", SplitParams(), PREP)


def test_feedback_trains_and_leaves_the_other_splits_as_they_were(tmp_path: Path) -> None:
    """People's corrections arrive with every retrain; the test set a champion was measured on must not move."""
    records = _records()
    write_jsonl(tmp_path / "before.jsonl", records)
    split(tmp_path / "before.jsonl", tmp_path / "a", SplitParams(), PREP)
    chat = lambda i: [{"role": "user", "content": f"How do I link streaming account {i}?"},  # noqa: E731
                      {"role": "assistant", "content": "In the app."}]  # fmt: skip
    feedback = [{"id": f"fb-{i}", "intent": "billing", "messages": chat(i)} for i in range(40)]
    write_jsonl(tmp_path / "after.jsonl", feedback[:20] + records + feedback[20:])
    split(tmp_path / "after.jsonl", tmp_path / "b", SplitParams(), PREP)
    before, after = _load(tmp_path / "a"), _load(tmp_path / "b")
    assert after["test"] == before["test"] and after["validation"] == before["validation"]
    assert after["train"] == feedback[:20] + before["train"] + feedback[20:]
    # what defines an intent for evaluation stays too, so the base model's evaluation need not rerun
    assert (tmp_path / "b/intents.jsonl").read_bytes() == (tmp_path / "a/intents.jsonl").read_bytes()


def test_intent_reference_is_the_first_training_replies_of_each_intent(split_dir: Path) -> None:
    reference = list(read_jsonl(split_dir / "intents.jsonl"))
    train = _load(split_dir)["train"]
    per_intent = Counter(r["intent"] for r in reference)
    assert set(per_intent) == set(INTENTS) and set(per_intent.values()) == {SplitParams().intent_reference_rows}
    for intent in INTENTS:
        first = [r["messages"][-1]["content"] for r in train if r["intent"] == intent][: per_intent[intent]]
        assert [r["reply"] for r in reference if r["intent"] == intent] == first


def test_feedback_repeating_a_held_out_prompt_is_held_back_and_changes_no_split(tmp_path: Path) -> None:
    """Out of training (it would leak the answer) and out of the test set (a champion's measure stays the same,
    and DVC's cached base-model evaluation with it)."""
    records = _records()
    write_jsonl(tmp_path / "before.jsonl", records)
    split(tmp_path / "before.jsonl", tmp_path / "a", SplitParams(), PREP)
    before = _load(tmp_path / "a")
    held_out = before["test"][0]
    correction = {
        **held_out,
        "id": "fb-1",
        "messages": [*held_out["messages"][:-1], {"role": "assistant", "content": "The corrected answer."}],
    }
    write_jsonl(tmp_path / "after.jsonl", [correction, *records])
    split(tmp_path / "after.jsonl", tmp_path / "b", SplitParams(), PREP)
    for name in SPLITS:
        assert (tmp_path / f"b/{name}.jsonl").read_bytes() == (tmp_path / f"a/{name}.jsonl").read_bytes()
    assert list(read_jsonl(tmp_path / "b/held_back.jsonl")) == [correction]
    assert orjson.loads((tmp_path / "b/summary.json").read_bytes())["rows"]["held_back"] == 1


def test_feedback_bridging_groups_moves_no_data_row_and_leaks_nothing(tmp_path: Path) -> None:
    """A correction can nearly repeat two data prompts at once; grouped with them, it would join their groups and
    reshuffle a whole intent. Here every data row must stay where it was, and no training row may nearly repeat a
    held-out prompt."""
    records = _records()
    write_jsonl(tmp_path / "before.jsonl", records)
    split(tmp_path / "before.jsonl", tmp_path / "a", SplitParams(), PREP)
    before = _load(tmp_path / "a")
    prompts = [prompt_text(r) for r in records]
    feedback = []
    for n, (a, b) in enumerate(zip(prompts[::7], prompts[3::7], strict=False)):
        words_a, words_b = a.split(), b.split()
        bridge = " ".join(words_a[: len(words_a) * 3 // 4] + words_b[len(words_b) // 4 :])
        feedback.append({"id": f"fb-{n}", "messages": [{"role": "user", "content": bridge},
                                                       {"role": "assistant", "content": "Corrected."}]})  # fmt: skip
    for n, prompt in enumerate(prompts[::5]):  # and corrections of questions asked again, some of them held out
        again = [{"role": "user", "content": prompt + " thanks"}, {"role": "assistant", "content": "Corrected."}]
        feedback.append({"id": f"fb-again-{n}", "messages": again})
    write_jsonl(tmp_path / "after.jsonl", records + feedback)
    split(tmp_path / "after.jsonl", tmp_path / "b", SplitParams(), PREP)
    after = _load(tmp_path / "b")
    for name in SPLITS:
        assert [r for r in after[name] if not r["id"].startswith("fb-")] == before[name]
    assert not any(r["id"].startswith("fb-") for r in after["validation"] + after["test"])
    assert (tmp_path / "b/intents.jsonl").read_bytes() == (tmp_path / "a/intents.jsonl").read_bytes()
    index = NearDuplicateIndex(0.7, PREP.num_perm)
    held_out = [prompt_text(r) for r in after["validation"] + after["test"]]
    for i, sig in enumerate(signatures(held_out, PREP.num_perm, PREP.shingle_words)):
        index.add(str(i), sig)
    train = [prompt_text(r) for r in after["train"]]
    assert all(index.find(sig) is None for sig in signatures(train, PREP.num_perm, PREP.shingle_words))
    held_back = list(read_jsonl(tmp_path / "b/held_back.jsonl"))
    assert held_back and all(r["id"].startswith("fb-") for r in held_back)  # some did repeat a held-out prompt
    assert len(held_back) + sum(r["id"].startswith("fb-") for r in after["train"]) == len(feedback)
