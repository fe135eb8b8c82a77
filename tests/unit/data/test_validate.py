"""The great-expectations suite on real frames: passes on clean data, names what fails."""

from pathlib import Path

import orjson
import pytest

from tasks.config.schema import PrepareParams, ValidateParams
from tasks.core.errors import DataValidationError
from tasks.core.files import write_jsonl
from tasks.data.validate import validate

PREP = PrepareParams(min_tokens=4, max_tokens=200)
RULES = ValidateParams(min_rows=20, max_intent_share=0.5, min_intent_share=0.1)


def _rec(i: int, intent: str | None = None, user: str | None = None, n_tokens: int = 30) -> dict:
    return {
        "id": f"r{i}",
        "intent": intent or ["billing", "roaming", "router"][i % 3],
        "n_tokens": n_tokens,
        "source": "raw.jsonl",
        "lang": "en",
        "messages": [
            {"role": "user", "content": user or f"Question {i} about plan {i * 31}"},
            {"role": "assistant", "content": f"Answer {i}"},
        ],
    }


def _run(tmp_path: Path, recs: list[dict], rules: ValidateParams = RULES) -> dict:
    write_jsonl(tmp_path / "records.jsonl", recs)
    return validate(tmp_path / "records.jsonl", tmp_path / "reports", rules, PREP)


def test_clean_data_passes_and_writes_reports(tmp_path: Path) -> None:
    result = _run(tmp_path, [_rec(i) for i in range(30)])
    assert result["success"] and result["passed"] == result["evaluated"] >= 15
    saved = orjson.loads((tmp_path / "reports" / "validation.json").read_bytes())
    assert saved["success"] is True
    page = (tmp_path / "reports" / "validation.html").read_text()
    assert f"{result['evaluated']} of {result['evaluated']} expectations passed" in page
    assert "FAIL" not in page


def test_residual_pii_fails_with_observed_value(tmp_path: Path) -> None:
    recs = [_rec(i) for i in range(30)]
    recs[4] = _rec(4, user="mail me at leaked.person@example.com now")
    with pytest.raises(DataValidationError, match=r"expect_column_values_to_not_match_regex.*1 unexpected.*leaked"):
        _run(tmp_path, recs)
    saved = orjson.loads((tmp_path / "reports" / "validation.json").read_bytes())
    assert saved["success"] is False
    assert "FAIL" in (tmp_path / "reports" / "validation.html").read_text()


def test_each_rule_is_enforced(tmp_path: Path) -> None:
    recs = [_rec(i) for i in range(10)]  # too few rows
    recs.append(_rec(10, n_tokens=999))  # over the length bound
    recs.append({**_rec(11), "id": "r1"})  # id not unique
    recs.append({**_rec(12), "messages": [{"role": "assistant", "content": "no question"}]})  # bad turns
    recs.append(_rec(13, user=" "))  # empty turn
    recs.append({**_rec(0), "id": "copy"})  # duplicate text
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, recs)
    message = str(err.value)
    for fragment in (
        "expect_table_row_count_to_be_between",
        "column=n_tokens",
        "expect_column_values_to_be_unique",
        "column=turns",
        "column=min_turn_chars",
        "column=dedup_key",
    ):
        assert fragment in message, fragment


def test_intent_balance(tmp_path: Path) -> None:
    recs = [_rec(i, intent="billing") for i in range(28)] + [_rec(28, intent="roaming"), _rec(29, intent="x")]
    with pytest.raises(DataValidationError, match=r"intent_shares: expect_column_values_to_be_between.*share"):
        _run(tmp_path, recs)


def test_missing_column_is_reported(tmp_path: Path) -> None:
    recs = [{k: v for k, v in _rec(i).items() if k != "n_tokens"} for i in range(30)]
    with pytest.raises(DataValidationError, match=r"expect_column_to_exist.*n_tokens"):
        _run(tmp_path, recs)


def test_empty_data_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="expect_table_row_count_to_be_between"):
        _run(tmp_path, [])


def test_feedback_records_need_no_intent_but_data_records_do(tmp_path: Path) -> None:
    data = [_rec(i) for i in range(30)]
    feedback = [{**_rec(100 + i), "id": f"fb-{i}", "intent": None, "source": "records.jsonl"} for i in range(10)]
    assert _run(tmp_path, data + feedback)["success"]
    unlabelled = [{**_rec(200 + i), "intent": None} for i in range(10)]
    with pytest.raises(DataValidationError, match=r"expect_column_values_to_not_be_null\(column=intent"):
        _run(tmp_path, data + feedback + unlabelled)
