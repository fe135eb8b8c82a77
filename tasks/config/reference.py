"""The params reference (docs/config-reference.md), generated from the schema's field docstrings.

python -m tasks.config.reference > docs/config-reference.md     (make docs; a test checks it is current)
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tasks.config.schema import Params

HEADER = """# params.yaml reference

Generated from `tasks/config/schema.py` by `make docs`; do not edit by hand. Every value lives in
`params.yaml` (the defaults below are its values; a test keeps them equal). Profiles in `params/` change
some of them: `llmops profile smoke`. Override one key for one run with `llmops retrain -S KEY=VALUE` or
`dvc exp run -S KEY=VALUE`.
"""


def _section(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in typing.get_args(annotation))}]"
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def _bounds(field: FieldInfo) -> str:
    signs = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=", "pattern": "matches"}
    found = [f"{signs[k]} {getattr(m, k)}" for m in field.metadata for k in signs if getattr(m, k, None) is not None]
    return ", ".join(found)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


TABLE = ["| key | type | default | what it does |", "| --- | --- | --- | --- |"]


def _row(key: str, field: FieldInfo, value: Any) -> str:
    bounds = _bounds(field)
    kind = _type_name(field.annotation) + (f" ({bounds})" if bounds else "")
    return f"| `{key}` | {_cell(kind)} | `{json.dumps(value)}` | {_cell(field.description or '')} |"


def _rows(model: type[BaseModel], values: dict[str, Any], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        nested = _section(field.annotation)
        if nested is None:
            rows.append(_row(f"{prefix}{key}", field, values[key]))
        else:
            rows += _rows(nested, values[key], f"{prefix}{key}.")
    return rows


def render() -> str:
    values = Params().model_dump(by_alias=True)
    top = [
        _row(f.alias or n, f, values[f.alias or n])
        for n, f in Params.model_fields.items()
        if not _section(f.annotation)
    ]
    out = [HEADER, *TABLE, *top]
    for name, field in Params.model_fields.items():
        key = field.alias or name
        section = _section(field.annotation)
        if section is None:
            continue
        out += ["", f"## {key}", ""]
        if section.__doc__ and section.__doc__ != BaseModel.__doc__:
            out += [_cell(section.__doc__), ""]
        out += [*TABLE, *_rows(section, values[key], f"{key}.")]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
