"""Importing a library without the optional packages it would load but this project never calls through it."""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType


class _Absent(importlib.abc.MetaPathFinder):
    def __init__(self, packages: frozenset[str]) -> None:
        self.packages = packages

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top in self.packages and top not in sys.modules:
            raise ModuleNotFoundError(f"No module named {fullname!r} (left out on purpose)", name=fullname)
        return None


@contextmanager
def without(*packages: str) -> Iterator[None]:
    """Imports inside the block find `packages` missing, unless a module of this process imported them already, so
    a library takes the path it has for an optional dependency that is not installed. After the block they import
    as usual. Presidio is the case: its package imports its transformers NLP engine and thinc's torch support (4 s
    of torch and transformers in every process that scrubs), and the scrubber runs it with NoOpNlpEngine."""
    finder = _Absent(frozenset(packages))
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
