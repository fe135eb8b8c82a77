from collections import Counter
from pathlib import Path

import orjson

from tasks.config.schema import GenerateParams
from tasks.data.synthesize import records, traffic, write_dataset


def test_default_dataset_is_big_varied_and_dirty() -> None:
    recs = list(records(GenerateParams()))
    assert len(recs) >= 3000
    intents = Counter(r["intent"] for r in recs if r.get("intent"))
    assert len(intents) >= 20
    assert sum(1 for r in recs if sum(m["role"] == "user" for m in r["messages"]) > 1) > 100
    texts = [orjson.dumps(r["messages"]) for r in recs]
    assert len(texts) - len(set(texts)) > 100  # exact duplicates
    assert any(r.get("lang") not in (None, "en") for r in recs)  # other languages
    assert any(not r["messages"][0]["content"].strip() for r in recs)  # empty rows
    assert any(len(r["messages"][0]["content"]) > 10_000 for r in recs)  # over-long rows
    joined = b"\n".join(texts)
    for marker in (b"@", b"IBAN", b"card number", b"My name is", b"Street"):
        assert marker in joined


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    p = GenerateParams(n_records=300)
    write_dataset(p, tmp_path / "a.jsonl")
    write_dataset(p, tmp_path / "b.jsonl")
    write_dataset(p.model_copy(update={"seed": 8}), tmp_path / "c.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()


def test_malformed_lines_are_written(tmp_path: Path) -> None:
    summary = write_dataset(GenerateParams(n_records=200, malformed_lines=3), tmp_path / "a.jsonl")
    bad = 0
    for line in (tmp_path / "a.jsonl").read_bytes().splitlines():
        try:
            obj = orjson.loads(line)
            bad += not isinstance(obj, dict) or not isinstance(obj.get("messages"), list)
        except orjson.JSONDecodeError:
            bad += 1
    assert bad == summary["malformed_lines"] == 3


def test_shifted_traffic_has_new_intents_at_the_requested_share() -> None:
    base = {r["intent"] for r in records(GenerateParams(n_records=500))}
    shifted = list(traffic(2000, seed=3, shift_share=0.2))
    new = sum(r["intent"] not in base for r in shifted) / len(shifted)
    assert 0.15 < new < 0.25
    assert all(len(r["messages"]) == 1 and r["messages"][0]["role"] == "user" for r in shifted)
    assert all(r["intent"] in base for r in traffic(500, seed=3, shift_share=0.0))
