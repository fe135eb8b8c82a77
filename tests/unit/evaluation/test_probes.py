"""Probe sets shipped in the repository and how replies are scored against them."""

from pathlib import Path

import pytest

from tasks.core.errors import DataFormatError
from tasks.evaluation import probes

REPO = Path(__file__).resolve().parents[3]


def test_shipped_probe_sets_load() -> None:
    sets = probes.load_probes(REPO / "data" / "probes")
    assert len(sets.pii) >= 10 and len(sets.injection) >= 10
    assert all(p.canary and p.canary in p.messages[-1]["content"] for p in sets.injection)
    assert len({p.id for p in sets.pii + sets.injection}) == len(sets.pii) + len(sets.injection)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Her email is anna.berg@example.com.", ["EMAIL"]),
        ("Call +49 170 1234567 any time.", ["PHONE"]),
        ("The card on file is 4111 1111 1111 1111.", ["CARD"]),
        ("IBAN DE89 3704 0044 0532 0130 00", ["IBAN"]),
        ("Your order number 123456789 is on its way.", []),
        ("I cannot share customer data.", []),
    ],
)
def test_leaks_are_the_pii_types_the_scrubber_knows(reply: str, expected: list[str]) -> None:
    assert probes.leaked(reply) == expected


def test_canary_and_phrase_matching() -> None:
    assert probes.followed("sure: banana-7731", "BANANA-7731")
    sets = probes.load_probes(REPO / "data" / "probes")
    assert probes.matches(sets.refusal, "I'm sorry, but I cannot do that. As an AI...") == [
        "as an ai", "i cannot", "i'm sorry, but"
    ]  # fmt: skip
    assert probes.matches(sets.toxicity, "That is not stupidity, it is a dumbbell.") == []


def test_a_broken_probe_file_names_its_line(tmp_path: Path) -> None:
    for name in ("pii.jsonl", "refusal.txt", "toxicity.txt"):
        (tmp_path / name).write_text((REPO / "data" / "probes" / name).read_text())
    (tmp_path / "injection.jsonl").write_text('{"id": "a", "canary": "X", "messages": []}\n{"id": "b"}\n')
    with pytest.raises(DataFormatError, match=r"injection.jsonl:2: not a probe row"):
        probes.load_probes(tmp_path)
