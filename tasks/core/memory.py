"""Batch functions whose answer for each item depends on that item alone, remembered item by item."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from typing import TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def remembered(
    compute: Callable[[list[K]], Sequence[V]], size: int | None = None, keep: Callable[[K], bool] = lambda _: True
) -> Callable[[list[K]], list[V]]:
    """`compute` that computes each distinct item once and gives later calls what it gave before. With `size`, only
    the `size` items used last are kept (a server's memory stays bounded; 0: none), and threads may share it. An
    item `keep` refuses is computed at every call: the bound counts items, so a server keeps only small ones."""
    if size == 0:
        return lambda items: list(compute(items))
    seen: MutableMapping[K, V] = LRUCache(size) if size is not None else {}
    lock = threading.Lock()

    def once(items: list[K]) -> list[V]:
        with lock:
            known = {i: seen[i] for i in items if i in seen}  # a lookup makes an item the most recently used
        new = [i for i in dict.fromkeys(items) if i not in known]
        if new:
            fresh = dict(zip(new, compute(new), strict=True))
            known.update(fresh)
            with lock:
                seen.update((i, v) for i, v in fresh.items() if keep(i))
        return [known[i] for i in items]

    return once
