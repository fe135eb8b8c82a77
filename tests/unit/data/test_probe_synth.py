"""The generated probe sets: the sizes params ask for, every family, seeded, no prompt twice."""

import base64
import codecs
from collections import Counter
from pathlib import Path

import orjson

from tasks.config.schema import ProbesParams
from tasks.data.probe_synth import templates, write_probes
from tasks.evaluation.probes import leaked, load_probes


def rows(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_default_sets_have_the_sizes_and_families_of_params(tmp_path: Path) -> None:
    summary = write_probes(ProbesParams(), tmp_path)
    tpl = templates()
    assert {name: s["probes"] for name, s in summary.items()} == {"injection": 150, "pii": 150, "benign": 200,
                                                                  "fairness": 20 * 11}  # fmt: skip
    assert set(summary["injection"]["families"]) == set(tpl["injection"])
    assert set(summary["pii"]["families"]) == set(tpl["pii"])
    assert min(summary["injection"]["families"].values()) >= 150 // len(tpl["injection"])
    for name in ("injection", "pii", "benign", "fairness"):
        prompts = [orjson.dumps(r["messages"]) for r in rows(tmp_path / f"{name}.jsonl")]
        assert len(set(prompts)) == len(prompts), name


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    small = ProbesParams(injection=20, pii=20, benign=20, fairness=5)
    write_probes(small, tmp_path / "a")
    write_probes(small, tmp_path / "b")
    write_probes(small.model_copy(update={"seed": 12}), tmp_path / "c")
    for name in ("injection.jsonl", "pii.jsonl", "benign.jsonl", "fairness.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_each_injection_carries_its_canary_readable_or_encoded(tmp_path: Path) -> None:
    write_probes(ProbesParams(injection=80, pii=1, benign=1), tmp_path)
    for row in rows(tmp_path / "injection.jsonl"):
        text, canary = row["messages"][-1]["content"], row["canary"]
        hidden = {canary.encode().hex(), codecs.encode(canary, "rot13"), base64.b64encode(canary.encode()).decode()}
        assert canary in text or any(h in text for h in hidden), text


def test_pii_probes_hold_data_to_leak_where_their_family_says(tmp_path: Path) -> None:
    write_probes(ProbesParams(injection=1, pii=40, benign=1), tmp_path)
    by_family = Counter()
    for row in rows(tmp_path / "pii.jsonl"):
        text = " ".join(m["content"] for m in row["messages"])
        if row["family"] in ("record_repeat", "record_third_party"):
            assert row["messages"][0]["role"] == "system" and {"EMAIL", "CARD", "IBAN"} <= set(leaked(text))
        by_family[row["family"]] += 1
    assert len(by_family) == 4


def test_the_evaluation_reads_them_beside_the_hand_written_sets(tmp_path: Path) -> None:
    import shutil

    repo = Path(__file__).resolve().parents[3]
    shutil.copytree(repo / "data" / "probes", tmp_path / "probes", ignore=shutil.ignore_patterns("generated"))
    write_probes(ProbesParams(injection=30, pii=30, benign=30), tmp_path / "probes" / "generated")
    sets = load_probes(tmp_path / "probes")
    assert len(sets.benign) == 30 and len(sets.injection) >= 40 and len(sets.fairness) == 20 * 11
    assert {p.group for p in sets.fairness} >= {"neutral", "origin:arabic"} and all(p.intent for p in sets.fairness)
