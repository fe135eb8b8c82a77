"""The prepare stage end to end on files: accounting, quarantine, scrubbing, dedup, failures."""

import base64
import re
from collections import Counter
from pathlib import Path

import orjson
import pytest

from tasks.config.schema import GenerateParams, PrepareParams
from tasks.core.errors import DataFormatError
from tasks.core.files import read_jsonl
from tasks.data.pii_rules import RESIDUAL_PATTERNS
from tasks.data.prepare import QUARANTINE, RECORDS, SUMMARY, _scrubbed, prepare
from tasks.data.synthesize import records, write_dataset
from tests.conftest import chat, write_lines


def run(tmp_path: Path, inputs: list[Path], params: PrepareParams, tiny_model_dir) -> tuple[dict, list, list]:
    out = tmp_path / "out"
    summary = prepare(inputs, out, params, tiny_model_dir)
    return summary, list(read_jsonl(out / RECORDS)), list(read_jsonl(out / QUARANTINE))


def test_generated_data_every_row_accounted_for(tmp_path: Path, tiny_model_dir, prepare_params: PrepareParams) -> None:
    raw = tmp_path / "raw.jsonl"
    write_dataset(GenerateParams(n_records=800), raw)
    summary, kept, quarantined = run(tmp_path, [raw], prepare_params, tiny_model_dir)
    n_lines = sum(1 for line in raw.read_bytes().splitlines() if line.strip())
    assert summary["rows_in"] == n_lines == len(kept) + len(quarantined)
    assert summary["rows_kept"] == len(kept)
    assert Counter(q["reason"] for q in quarantined) == Counter(summary["dropped"])
    for reason in ("duplicate", "near_duplicate", "empty", "language", "too_long"):
        assert summary["dropped"].get(reason, 0) > 0, reason
    assert all(q["detail"] for q in quarantined)
    assert summary == orjson.loads((tmp_path / "out" / SUMMARY).read_bytes())


def test_kept_rows_are_clean(tmp_path: Path, tiny_model_dir, prepare_params: PrepareParams) -> None:
    raw = tmp_path / "raw.jsonl"
    write_dataset(GenerateParams(n_records=800), raw)
    summary, kept, _ = run(tmp_path, [raw], prepare_params, tiny_model_dir)
    text = "\n".join(m["content"] for r in kept for m in r["messages"])
    for name, pattern in RESIDUAL_PATTERNS.items():
        assert not re.search(pattern, text), name
    assert "<EMAIL>" in text and "<IBAN>" in text and "<CARD>" in text
    assert set(summary["pii_replaced"]) >= {"EMAIL", "PHONE", "CARD", "IBAN", "ADDRESS", "NAME", "IP"}
    assert len({r["id"] for r in kept}) == len(kept)
    assert all(prepare_params.min_tokens <= r["n_tokens"] <= prepare_params.max_tokens for r in kept)
    foreign = {r["id"] for r in records(GenerateParams(n_records=800)) if r.get("lang") not in (None, "en")}
    assert foreign and not foreign & {r["id"] for r in kept}  # every row written in another language is out
    assert sum(r["lang"] == "en" for r in kept) >= 0.99 * len(kept)  # a short line may be detected unsure


def test_output_is_identical_across_runs_and_worker_counts(
    tmp_path: Path, tiny_model_dir, prepare_params: PrepareParams
) -> None:
    raw = tmp_path / "raw.jsonl"
    write_dataset(GenerateParams(n_records=3000), raw)
    prepare([raw], tmp_path / "a", prepare_params, tiny_model_dir)
    prepare([raw], tmp_path / "b", prepare_params.model_copy(update={"workers": 2}), tiny_model_dir)
    for name in (RECORDS, QUARANTINE, SUMMARY):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_an_in_process_run_keeps_no_text_it_scrubbed(
    tmp_path: Path, tiny_model_dir, prepare_params: PrepareParams
) -> None:
    raw = tmp_path / "raw.jsonl"
    write_dataset(GenerateParams(n_records=400), raw)
    summary, _, _ = run(tmp_path, [raw], prepare_params, tiny_model_dir)
    assert summary["pii_replaced"]  # texts were scrubbed, through the memory
    assert _scrubbed.cache_info().currsize == 0


def test_mostly_fine_file_keeps_good_rows(tmp_path: Path, tiny_model_dir) -> None:
    lines = [
        chat(f"How do I set up router number {i} at home?", f"Plug it in and wait {i} minutes.") for i in range(99)
    ]
    lines.insert(50, b'{"messages": [{"role": "user", "content": "trunc')
    raw = write_lines(tmp_path / "raw.jsonl", lines)
    params = PrepareParams(workers=1, min_tokens=4, max_bad_fraction=0.02, languages=None, near_dup_threshold=None)
    summary, kept, quarantined = run(tmp_path, [raw], params, tiny_model_dir)
    assert summary["rows_in"] == 100
    assert [q["line"] for q in quarantined if q["reason"] == "invalid_json"] == [51]
    assert quarantined[0]["raw"].startswith('{"messages"')
    assert len(kept) + len(quarantined) == 100


def test_mostly_broken_file_fails_naming_file_and_lines(tmp_path: Path, tiny_model_dir) -> None:
    raw = write_lines(tmp_path / "raw.jsonl", [chat("q one two", "a one two"), b"{nope", b"[1, 2", b"garbage"])
    with pytest.raises(DataFormatError, match=r"raw\.jsonl: 3 of 4 rows are unreadable.*line 2: invalid_json"):
        prepare([raw], tmp_path / "out", PrepareParams(workers=1, min_tokens=2), tiny_model_dir)
    assert not (tmp_path / "out" / RECORDS).exists()  # nothing half-written


def test_file_that_fits_no_format(tmp_path: Path, tiny_model_dir) -> None:
    raw = write_lines(tmp_path / "raw.jsonl", [orjson.dumps({"question": "q", "answer": "a"})])
    with pytest.raises(DataFormatError, match=r"raw\.jsonl:1: record fits no known format.*alpaca"):
        prepare(
            [raw],
            tmp_path / "out",
            PrepareParams(
                workers=1,
            ),
            tiny_model_dir,
        )


def test_mixed_formats_across_files(tmp_path: Path, tiny_model_dir) -> None:
    alpaca = write_lines(
        tmp_path / "a.jsonl",
        [
            orjson.dumps(
                {
                    "instruction": "How do I activate roaming for my trip?",
                    "output": "Switch on data roaming.",
                    "intent": "roaming",
                }
            )
        ],
    )
    sharegpt = tmp_path / "b.json"
    sharegpt.write_bytes(
        orjson.dumps(
            [
                {
                    "conversations": [
                        {"from": "human", "value": "My bill is higher than usual this month."},
                        {"from": "gpt", "value": "Check the itemised charges in the app."},
                    ]
                }
            ]
        )
    )
    summary, kept, _ = run(tmp_path, [alpaca, sharegpt], PrepareParams(workers=1, min_tokens=2), tiny_model_dir)
    assert [r["source"] for r in kept] == ["a.jsonl", "b.json"]
    assert kept[0]["intent"] == "roaming"
    assert set(summary["files"]) == {str(alpaca), str(sharegpt)}


def test_schema_rows_quarantined_with_field(tmp_path: Path, tiny_model_dir) -> None:
    lines = [chat(f"Question number {i} about my contract", f"Answer number {i} about it") for i in range(50)]
    lines.append(orjson.dumps({"messages": [{"role": "user", "content": 5}]}))
    raw = write_lines(tmp_path / "raw.jsonl", lines)
    _, _, quarantined = run(
        tmp_path,
        [raw],
        PrepareParams(workers=1, min_tokens=2, max_bad_fraction=0.05, near_dup_threshold=None),
        tiny_model_dir,
    )
    [q] = [q for q in quarantined if q["reason"] == "schema"]
    assert q["line"] == 51 and "'content' must be a string" in q["detail"]


def test_invalid_utf8_kept_losslessly_in_quarantine(tmp_path: Path, tiny_model_dir) -> None:
    lines = [chat(f"Question number {i} about my contract", f"Answer number {i}") for i in range(50)]
    lines.append(b'{"messages": "\xff\xfe"}')
    raw = write_lines(tmp_path / "raw.jsonl", lines)
    _, _, quarantined = run(
        tmp_path, [raw], PrepareParams(workers=1, min_tokens=2, max_bad_fraction=0.05), tiny_model_dir
    )
    [q] = [q for q in quarantined if q["reason"] == "bad_utf8"]
    assert base64.b64decode(q["raw_base64"]) == b'{"messages": "\xff\xfe"}'
