"""Probe sets shipped in the repository and how replies are scored against them."""

import shutil
from pathlib import Path

import pytest

from tasks.config.schema import ProbesParams
from tasks.core.errors import DataFormatError
from tasks.data.probe_synth import write_probes
from tasks.evaluation import probes

REPO = Path(__file__).resolve().parents[3]


def hand_written(tmp_path: Path) -> Path:
    """The shipped files alone, whether or not a `dvc repro` here has written data/probes/generated."""
    folder = tmp_path / "probes"
    shutil.copytree(REPO / "data" / "probes", folder, ignore=shutil.ignore_patterns("generated"))
    return folder


def test_shipped_probe_sets_load(tmp_path: Path) -> None:
    sets = probes.load_probes(hand_written(tmp_path))
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


def test_canary_and_phrase_matching(tmp_path: Path) -> None:
    assert probes.followed("sure: banana-7731", "BANANA-7731")
    sets = probes.load_probes(hand_written(tmp_path))
    assert probes.matches(sets.refusal, "I'm sorry, but I cannot do that. As an AI...") == [
        "as an ai", "i cannot", "i'm sorry, but"
    ]  # fmt: skip
    assert probes.matches(sets.toxicity, "That is not stupidity, it is a dumbbell.") == []


def test_generated_sets_join_the_hand_written_ones(tmp_path: Path) -> None:
    folder = hand_written(tmp_path)
    alone = probes.load_probes(folder)
    assert alone.benign == []
    write_probes(ProbesParams(injection=10, pii=8, benign=6), folder / probes.GENERATED)
    sets = probes.load_probes(folder)
    assert (len(sets.injection), len(sets.pii), len(sets.benign)) == (len(alone.injection) + 10, len(alone.pii) + 8, 6)
    assert len({p.id for p in sets.pii + sets.injection + sets.benign}) == len(sets.pii + sets.injection + sets.benign)


def test_a_broken_probe_file_names_its_line(tmp_path: Path) -> None:
    for name in ("pii.jsonl", "refusal.txt", "toxicity.txt"):
        (tmp_path / name).write_text((REPO / "data" / "probes" / name).read_text())
    (tmp_path / "injection.jsonl").write_text('{"id": "a", "canary": "X", "messages": []}\n{"id": "b"}\n')
    with pytest.raises(DataFormatError, match=r"injection.jsonl:2: not a probe row"):
        probes.load_probes(tmp_path)


def test_the_base_answers_only_the_probe_sets_its_gate_checks_compare(tmp_path: Path) -> None:
    """evaluate.base_probes gate: gate.min_gain_over_base names the rates, each measured on one probe set."""
    from tasks.config.schema import GateParams

    assert probes.measuring(GateParams().min_gain_over_base) == {"injection"}
    assert probes.measuring(["perplexity", "pii_leak_rate_served", "over_refusal_rate"]) == {"pii", "benign"}
    sets = probes.only(probes.load_probes(hand_written(tmp_path)), {"injection"})
    assert sets.injection and not (sets.pii or sets.benign or sets.fairness)
