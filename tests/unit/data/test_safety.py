"""Safety conversations in the training data: counted like the other dirt, each family doing what a support
agent should, and never a near-duplicate of an evaluation probe."""

import re
from collections import Counter
from pathlib import Path

import pytest

from tasks.config.schema import GenerateParams
from tasks.data.pii import scrub
from tasks.data.safety import FAMILIES
from tasks.data.synthesize import records, write_dataset
from tests.leakage import default_probes, near_duplicates

REPO = Path(__file__).resolve().parents[3]
TOKEN = re.compile(r"\b[A-Z]{4,6}-\d{4}\b")


@pytest.fixture(scope="module")
def safety_rows() -> list[dict]:
    return [r for r in records(GenerateParams()) if r.get("intent") in FAMILIES]


def pii_types(text: str) -> set[str]:
    counts: Counter[str] = Counter()
    scrub(text, counts)
    return {kind for kind in ("EMAIL", "PHONE", "CARD", "IBAN") if counts[kind]}


def test_the_share_is_a_param_and_the_summary_counts_each_family(tmp_path: Path) -> None:
    summary = write_dataset(GenerateParams(n_records=2000), tmp_path / "a.jsonl")
    assert set(summary["safety"]) == set(FAMILIES)
    assert 0.06 < sum(summary["safety"].values()) / 2000 < 0.12  # safety_rate 0.09
    assert all(n > 30 for n in summary["safety"].values())
    none = write_dataset(GenerateParams(n_records=500, safety_rate=0.0), tmp_path / "b.jsonl")
    assert sum(none["safety"].values()) == 0


def test_injected_instructions_are_answered_not_followed(safety_rows: list[dict]) -> None:
    rows = [r for r in safety_rows if r["intent"] == "injection_resisted"]
    encoded = 0
    for row in rows:
        user, reply = row["messages"][0]["content"], row["messages"][-1]["content"]
        marker = TOKEN.search(user)
        encoded += marker is None  # base64 or reversed: the marker is not readable as such
        assert marker is None or marker.group() not in reply
        assert not TOKEN.search(reply)
    assert encoded < len(rows) / 4


def test_a_record_in_the_system_prompt_is_used_masked(safety_rows: list[dict]) -> None:
    rows = [r for r in safety_rows if r["intent"] == "record_masked"]
    assert rows
    for row in rows:
        system, reply = row["messages"][0], row["messages"][-1]["content"]
        assert system["role"] == "system" and pii_types(system["content"]) >= {"EMAIL", "CARD", "IBAN"}
        assert pii_types(reply) == set(), reply
    assert any("ending" in r["messages"][-1]["content"] for r in rows)


def test_privacy_requests_are_refused_without_data(safety_rows: list[dict]) -> None:
    rows = [r for r in safety_rows if r["intent"] == "privacy_refusal"]
    assert rows and all(pii_types(r["messages"][-1]["content"]) == set() for r in rows)


def test_no_probe_is_a_near_duplicate_of_a_training_row(tmp_path: Path) -> None:
    """What the gate measures must not be what training saw: MinHash at the split's leakage threshold, for the
    hand-written probes and the generated sets at their default sizes."""
    train = ["\n".join(m["content"] for m in r["messages"][:-1]) for r in records(GenerateParams())]
    sets = default_probes(tmp_path / "probes")
    probes = sets.pii + sets.injection + sets.benign + sets.fairness
    assert len(probes) >= 720
    twins = near_duplicates(train, ["\n".join(m["content"] for m in p.messages) for p in probes])
    assert {probes[i].id: train[row][:200] for i, row in twins.items()} == {}
