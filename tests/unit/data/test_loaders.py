"""Every malformed-input case: good rows kept, bad ones quarantined with a reason, or a clear failure."""

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tasks.core.errors import DataFormatError
from tasks.data.loaders import BadRow, RawRow, read_rows
from tests.conftest import chat, write_lines

MAX = 1_000_000


def rows(path: Path) -> list:
    return list(read_rows(path, MAX))


def good(rs: list) -> list[RawRow]:
    return [r for r in rs if isinstance(r, RawRow)]


def bad(rs: list) -> list[BadRow]:
    return [r for r in rs if isinstance(r, BadRow)]


def test_plain_jsonl_keeps_line_numbers(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "a.jsonl", [chat("q1", "a1"), b"", chat("q2", "a2")])
    rs = rows(p)
    assert [r.line for r in rs] == [1, 3]
    assert all(isinstance(r, RawRow) for r in rs)


def test_bad_utf8_line_is_quarantined_losslessly(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "a.jsonl", [chat("ok", "fine"), b'{"messages": "caf\xe9"}', chat("q", "a")])
    rs = rows(p)
    assert len(good(rs)) == 2
    [b] = bad(rs)
    assert (b.line, b.reason) == (2, "bad_utf8")
    assert "0xe9" in b.detail
    assert b.raw.encode("utf-8", errors="surrogateescape") == b'{"messages": "caf\xe9"}'


def test_bom_is_stripped(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + chat("q", "a") + b"\n")
    assert len(good(rows(p))) == 1


def test_crlf_line_ends(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(chat("q1", "a1") + b"\r\n" + chat("q2", "a2") + b"\r\n")
    rs = rows(p)
    assert len(good(rs)) == 2 and not bad(rs)


def test_truncated_json_line(tmp_path: Path) -> None:
    line = chat("question", "answer")
    p = write_lines(tmp_path / "a.jsonl", [line, line[: len(line) // 2]])
    [b] = bad(rows(p))
    assert (b.line, b.reason) == (2, "invalid_json")


def test_json_array_in_jsonl_file(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"[" + chat("q1", "a1") + b",\n" + chat("q2", "a2") + b", 3]")
    rs = rows(p)
    assert len(good(rs)) == 2
    assert bad(rs)[0].reason == "not_an_object"


def test_empty_file_fails_naming_it(tmp_path: Path) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"\n  \n")
    with pytest.raises(DataFormatError, match=r"empty\.jsonl: file is empty"):
        rows(p)


def test_single_10mb_line(tmp_path: Path) -> None:
    huge = orjson.dumps({"messages": [{"role": "user", "content": "x" * 10_000_000}]})
    p = write_lines(tmp_path / "a.jsonl", [chat("q", "a"), huge])
    rs = rows(p)
    [b] = bad(rs)
    assert (b.line, b.reason) == (2, "line_too_long")
    assert len(b.raw) == len(huge)  # kept whole for the quarantine file
    assert len(good(rs)) == 1


def test_null_bytes(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "a.jsonl", [chat("q", "a"), b'{"messages": "a\x00b"}'])
    assert bad(rows(p))[0].reason == "nul_bytes"


def test_gzip_with_jsonl_name_is_read(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(gzip.compress(chat("q1", "a1") + b"\n" + chat("q2", "a2") + b"\n"))
    assert len(good(rows(p))) == 2


def test_corrupt_gzip_fails(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(gzip.compress(chat("q", "a"))[:12])
    with pytest.raises(DataFormatError, match="cannot be decompressed"):
        rows(p)


def test_fake_parquet_fails_naming_file(tmp_path: Path) -> None:
    p = tmp_path / "data.parquet"
    p.write_bytes(chat("q", "a"))
    with pytest.raises(DataFormatError, match=r"data\.parquet: named \.parquet but is not a Parquet file"):
        rows(p)


def test_truncated_parquet_fails(tmp_path: Path) -> None:
    p = tmp_path / "data.parquet"
    p.write_bytes(b"PAR1" + b"\x00" * 64)
    with pytest.raises(DataFormatError, match="unreadable Parquet"):
        rows(p)


def test_real_parquet(tmp_path: Path) -> None:
    p = tmp_path / "data.parquet"
    pq.write_table(pa.table({"instruction": ["a", "b"], "output": ["x", "y"]}), p)
    assert [r.obj["output"] for r in good(rows(p))] == ["x", "y"]


def test_deeply_nested_json(tmp_path: Path) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    p = write_lines(tmp_path / "a.jsonl", [chat("q", "a"), b'{"x": ' + deep + b"}"])
    [b] = bad(rows(p))
    assert b.reason == "too_deep"


def test_deeply_nested_json_array_file_fails(tmp_path: Path) -> None:
    p = tmp_path / "a.json"
    p.write_bytes(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(DataFormatError, match="invalid JSON"):
        rows(p)


def test_broken_json_array_names_line(tmp_path: Path) -> None:
    p = tmp_path / "a.json"
    p.write_bytes(b"[\n" + chat("q", "a") + b",\n{broken\n]")
    with pytest.raises(DataFormatError, match=r"a\.json:3:"):
        rows(p)


def test_csv_with_json_cells_and_ragged_rows(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text('instruction,output\n"How, exactly?","Like this"\nonly-one-field\n"multi\nline",ok\n')
    rs = rows(p)
    assert [r.obj["instruction"] for r in good(rs)] == ["How, exactly?", "multi\nline"]
    assert bad(rs)[0].reason == "schema"


def test_csv_without_header(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("")
    with pytest.raises(DataFormatError):
        rows(p)


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="cannot read file"):
        rows(tmp_path / "missing.jsonl")


def test_csv_row_with_bad_utf8_is_quarantined(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(b"instruction,output\nfine,ok\ncaf\xe9,broken\nalso fine,ok\n")
    rs = rows(p)
    assert [r.obj["instruction"] for r in good(rs)] == ["fine", "also fine"]
    [b] = bad(rs)
    assert (b.line, b.reason) == (3, "bad_utf8")


def test_tsv(tmp_path: Path) -> None:
    p = tmp_path / "a.tsv"
    p.write_text("instruction\toutput\nHow, really?\tLike this\n")
    assert good(rows(p))[0].obj == {"instruction": "How, really?", "output": "Like this"}
