"""validate: a great-expectations suite built from params, run over the prepared records.

A failure raises `DataValidationError` naming each failed expectation with its observed value,
after writing the full result (JSON) and a readable table (HTML) under data/reports/.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.config.schema import PrepareParams, ValidateParams
from tasks.core.errors import DataFormatError, DataValidationError
from tasks.core.files import atomic_writer, read_jsonl, write_json
from tasks.core.text import dedup_key
from tasks.data.formats import FEEDBACK_PREFIX
from tasks.data.pii_rules import RESIDUAL_PATTERNS

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "messages", "intent", "n_tokens", "source")
TURN_PATTERN = r"^(?:system>)?(?:user>assistant>)+$"


def records_frame(path: Path) -> pd.DataFrame:
    """Prepared records plus the derived columns the expectations look at."""
    if not path.is_file():
        raise DataFormatError(f"{path}: prepared records not found; run `dvc repro prepare` first")
    df = pd.DataFrame(list(read_jsonl(path)))
    if df.empty:
        return pd.DataFrame(columns=[*REQUIRED_COLUMNS, "text", "turns", "min_turn_chars", "dedup_key", "origin"])
    messages = df["messages"] if "messages" in df else pd.Series([[]] * len(df))
    df["text"] = [" \n".join(m.get("content", "") for m in conv) for conv in messages]
    df["turns"] = [">".join(m.get("role", "?") for m in conv) + ">" for conv in messages]
    df["min_turn_chars"] = [min((len(m.get("content", "").strip()) for m in conv), default=0) for conv in messages]
    df["dedup_key"] = [dedup_key(t) for t in df["text"]]
    ids = df["id"].astype(str) if "id" in df else pd.Series([""] * len(df))
    df["origin"] = ids.str.startswith(FEEDBACK_PREFIX).map({True: "feedback", False: "data"})
    return df


def intent_shares(df: pd.DataFrame) -> pd.DataFrame:
    labelled = df["intent"].dropna() if "intent" in df else pd.Series([], dtype=object)
    shares = labelled.value_counts(normalize=True)
    return pd.DataFrame({"intent": shares.index.astype(str), "share": shares.to_numpy()})


def _suites(v: ValidateParams, p: PrepareParams) -> tuple[list[Any], list[Any]]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    records = [
        *(gxe.ExpectColumnToExist(column=c) for c in REQUIRED_COLUMNS),
        gxe.ExpectTableRowCountToBeBetween(min_value=v.min_rows),
        gxe.ExpectColumnValuesToNotBeNull(column="id"),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToMatchRegex(column="turns", regex=TURN_PATTERN),
        gxe.ExpectColumnValuesToBeBetween(column="min_turn_chars", min_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="n_tokens", min_value=p.min_tokens, max_value=p.max_tokens),
        *(
            gxe.ExpectColumnValuesToNotMatchRegex(column="text", regex=rx, meta={"pii": name})
            for name, rx in RESIDUAL_PATTERNS.items()
        ),
        gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column="dedup_key", min_value=1 - v.max_duplicate_rate),
        # a person rating an answer labels no intent; the generated and loaded data must
        gxe.ExpectColumnValuesToNotBeNull(
            column="intent", mostly=1 - v.max_missing_intent_rate, row_condition=Column("origin") == "data"
        ),
    ]
    intents = [
        gxe.ExpectColumnValuesToBeBetween(column="share", min_value=v.min_intent_share, max_value=v.max_intent_share)
    ]
    return records, intents


def _run(frames: Sequence[tuple[str, pd.DataFrame, list[Any]]]) -> list[dict[str, Any]]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GE announces each ephemeral docs directory at INFO on a logger it configures itself.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("prepared")
    results = []
    for name, frame, expectations in frames:
        batch = (
            source.add_dataframe_asset(name)
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        for r in batch.validate(suite).results:
            results.append(_describe(name, r))
    return results


def _describe(table: str, r: Any) -> dict[str, Any]:
    cfg = r.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
    res = r.result or {}
    observed = res.get("observed_value")
    if observed is None and "unexpected_count" in res:
        observed = f"{res['unexpected_count']} unexpected ({res.get('unexpected_percent') or 0:.2f}%)"
    return {
        "table": table,
        "expectation": cfg.type,
        "kwargs": kwargs,
        "success": bool(r.success),
        "observed": observed,
        "examples": [_excerpt(str(x), kwargs.get("regex")) for x in res.get("partial_unexpected_list", [])[:5]],
        "error": (r.exception_info or {}).get("exception_message") if not r.success else None,
    }


def _excerpt(value: str, regex: str | None, width: int = 50) -> str:
    """The part of an unexpected value that broke the expectation, not its first characters."""
    m = re.search(regex, value) if regex else None
    start = max(0, m.start() - width) if m else 0
    return ("..." if start else "") + value[start : start + 2 * width + (m.end() - m.start() if m else 0)]


def _label(r: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in r["kwargs"].items())
    return f"{r['table']}: {r['expectation']}({args})"


def _write_html(path: Path, results: list[dict[str, Any]]) -> None:
    rows = "".join(
        f"<tr class={'ok' if r['success'] else 'fail'}><td>{'PASS' if r['success'] else 'FAIL'}</td>"
        f"<td>{html.escape(_label(r))}</td><td>{html.escape(str(r['observed']))}</td>"
        f"<td>{html.escape('; '.join(r['examples']))}</td></tr>"
        for r in results
    )
    page = (
        "<!doctype html><meta charset=utf-8><title>Data validation</title><style>"
        "body{font-family:sans-serif}td{padding:4px 8px;border-bottom:1px solid #ddd}"
        ".fail{background:#fdd}.ok{background:#efe}</style><h1>Data validation</h1>"
        f"<p>{sum(r['success'] for r in results)} of {len(results)} expectations passed.</p>"
        f"<table><tr><th>result</th><th>expectation</th><th>observed</th><th>examples</th></tr>{rows}</table>"
    )
    with atomic_writer(path) as fh:
        fh.write(page.encode())


def validate(data: Path, reports: Path, v: ValidateParams, p: PrepareParams) -> dict[str, Any]:
    df = records_frame(data)
    record_suite, intent_suite = _suites(v, p)
    results = _run([("records", df, record_suite), ("intent_shares", intent_shares(df), intent_suite)])
    failed = [r for r in results if not r["success"]]
    summary = {
        "success": not failed,
        "evaluated": len(results),
        "passed": len(results) - len(failed),
        "rows": len(df),
        "results": results,
    }
    write_json(reports / "validation.json", summary)
    _write_html(reports / "validation.html", results)
    if failed:
        lines = [
            f"{_label(r)}: observed {r['observed']}" + (f", e.g. {r['examples'][:2]}" if r["examples"] else "")
            for r in failed
        ]
        raise DataValidationError(
            f"{data}: {len(failed)} of {len(results)} expectations failed (report: {reports / 'validation.html'}):\n  "
            + "\n  ".join(lines)
        )
    return summary
