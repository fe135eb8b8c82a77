"""Read raw instruction files (JSONL, JSON array, CSV, Parquet) into rows, never losing one.

Each physical row comes out either as a `RawRow` (a JSON object with its line number) or a
`BadRow` with a reason and the original text, which prepare writes to quarantine. Problems
with the file as a whole (empty, not the format its name claims, unreadable) raise
`DataFormatError` naming the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tasks.core.errors import DataFormatError

log = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"
_PEEK = 1 << 16


@dataclass(frozen=True, slots=True)
class RawRow:
    source: str
    line: int
    obj: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadRow:
    source: str
    line: int
    reason: str
    detail: str
    raw: str


Row = RawRow | BadRow


def _decode_lossless(data: bytes) -> str:
    """Decode UTF-8 keeping undecodable bytes as surrogates, so the raw text survives into quarantine."""
    return data.decode("utf-8", errors="surrogateescape")


def _bad_utf8_detail(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"invalid UTF-8 byte 0x{data[err.start]:02x} at offset {err.start}"
    return None


@contextmanager
def _open(path: Path) -> Iterator[io.BufferedReader]:
    """The file's bytes as a peekable stream, decompressed when the content is gzip whatever its name."""
    try:
        raw = path.open("rb")
    except OSError as err:
        raise DataFormatError(f"{path}: cannot read file: {err.strerror}") from None
    with raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if gzipped:
            log.warning("%s: gzip-compressed content; reading it decompressed", path)
        stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
        try:
            yield io.BufferedReader(stream, buffer_size=_PEEK)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            if not gzipped:
                raise
            raise DataFormatError(f"{path}: looks gzip-compressed but cannot be decompressed: {err}") from None


def _empty(path: Path) -> DataFormatError:
    return DataFormatError(f"{path}: file is empty; nothing to prepare (check the export that wrote it)")


def _read_all(path: Path, fh: io.BufferedReader) -> bytes:
    data = fh.read()
    if not data.strip(b" \t\r\n" + _BOM):
        raise _empty(path)
    return data


def read_rows(path: Path, max_line_bytes: int) -> Iterator[Row]:
    """Rows of one file, format chosen from its content first and its extension second.

    JSON Lines stream line by line, so a file larger than memory works; the other formats need the whole file.
    """
    suffix = path.suffix.lower()
    with _open(path) as fh:
        head = fh.peek(_PEEK)
        if head[:4] == _PARQUET_MAGIC:
            yield from _parquet_rows(path, _read_all(path, fh))
        elif suffix == ".parquet":
            raise DataFormatError(
                f"{path}: named .parquet but is not a Parquet file (no PAR1 magic bytes); "
                "re-export it as Parquet or give it the extension of its real format"
            )
        elif suffix in {".csv", ".tsv"}:
            yield from _csv_rows(path, _read_all(path, fh), "\t" if suffix == ".tsv" else ",")
        elif head.removeprefix(_BOM).lstrip()[:1] == b"[":
            if suffix == ".jsonl":
                log.warning("%s: holds one JSON array, not JSON Lines; reading it as an array", path)
            yield from _json_array_rows(path, _read_all(path, fh))
        else:
            yield from _jsonl_rows(path, fh, max_line_bytes)


def _classify_json(source: str, line: int, text: str) -> Row:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        reason = "too_deep" if "depth" in str(err) or "recursion" in str(err) else "invalid_json"
        return BadRow(source, line, reason, str(err), text)
    if not isinstance(obj, dict):
        return BadRow(source, line, "not_an_object", f"expected a JSON object, got {type(obj).__name__}", text)
    return RawRow(source, line, obj)


def _jsonl_rows(path: Path, fh: io.BufferedReader, max_line_bytes: int) -> Iterator[Row]:
    source = str(path)
    seen = False
    for number, line in enumerate(fh, start=1):
        raw = line.removesuffix(b"\n").removesuffix(b"\r")
        if number == 1:
            raw = raw.removeprefix(_BOM)
        if not raw.strip():
            continue
        seen = True
        if len(raw) > max_line_bytes:
            yield BadRow(
                source,
                number,
                "line_too_long",
                f"{len(raw)} bytes > prepare.max_line_bytes={max_line_bytes}",
                _decode_lossless(raw),
            )
        elif b"\x00" in raw:
            yield BadRow(source, number, "nul_bytes", "line contains NUL bytes", _decode_lossless(raw))
        elif (detail := _bad_utf8_detail(raw)) is not None:
            yield BadRow(source, number, "bad_utf8", detail, _decode_lossless(raw))
        else:
            yield _classify_json(source, number, raw.decode("utf-8"))
    if not seen:
        raise _empty(path)


def _json_array_rows(path: Path, data: bytes) -> Iterator[Row]:
    if (detail := _bad_utf8_detail(data.removeprefix(_BOM))) is not None:
        raise DataFormatError(f"{path}: JSON array file with {detail}; re-encode the file as UTF-8")
    try:
        items = orjson.loads(data.removeprefix(_BOM))
    except orjson.JSONDecodeError as err:
        raise DataFormatError(
            f"{path}:{err.lineno}:{err.colno}: invalid JSON ({err.msg}); a JSON array file must parse as a whole"
        ) from None
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield RawRow(str(path), index, item)
        else:
            yield BadRow(
                str(path),
                index,
                "not_an_object",
                f"array element {index} is {type(item).__name__}, expected an object",
                orjson.dumps(item).decode(),
            )


def _csv_rows(path: Path, data: bytes, delimiter: str) -> Iterator[Row]:
    text = _decode_lossless(data.removeprefix(_BOM))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if not reader.fieldnames:
        raise DataFormatError(f"{path}: CSV file has no header row")
    try:
        for row in reader:
            line = reader.line_num
            raw = delimiter.join(v if isinstance(v, str) else "" for v in row.values())
            if any(isinstance(v, str) and "\x00" in v for v in row.values()):
                yield BadRow(str(path), line, "nul_bytes", "row contains NUL bytes", raw)
            elif None in row or any(v is None for v in row.values()):
                yield BadRow(str(path), line, "schema", "row has a different number of fields than the header", raw)
            elif any(_has_surrogates(v) for v in row.values()):
                yield BadRow(str(path), line, "bad_utf8", "row contains invalid UTF-8 bytes", raw)
            else:
                yield RawRow(str(path), line, {k: _maybe_json(v) for k, v in row.items()})
    except csv.Error as err:
        raise DataFormatError(f"{path}:{reader.line_num}: malformed CSV: {err}") from None


def _has_surrogates(value: object) -> bool:
    return isinstance(value, str) and any("\udc80" <= c <= "\udcff" for c in value)


def _maybe_json(value: str) -> Any:
    """CSV cells holding JSON (a `messages` column, say) are decoded; plain text stays text."""
    stripped = value.strip()
    if stripped[:1] in "[{":
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return value
    return value


def _parquet_rows(path: Path, data: bytes) -> Iterator[Row]:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as err:
        raise DataFormatError(f"{path}: unreadable Parquet file: {err}") from None
    for index, obj in enumerate(table.to_pylist(), start=1):
        yield RawRow(str(path), index, obj)
