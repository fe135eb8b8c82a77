"""A batch function remembered item by item: once per item, bounded when a server keeps it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tasks.core.memory import remembered


def test_each_item_is_computed_once_and_answers_keep_their_order() -> None:
    calls: list[list[str]] = []

    def lengths(items: list[str]) -> list[int]:
        calls.append(items)
        return [len(i) for i in items]

    once = remembered(lengths)
    assert once(["ab", "abc", "ab"]) == [2, 3, 2] and once(["abc", "abcd"]) == [3, 4] and once([]) == []
    assert calls == [["ab", "abc"], ["abcd"]]


def test_a_bounded_memory_keeps_the_items_used_last() -> None:
    calls: list[list[str]] = []

    def lengths(items: list[str]) -> list[int]:
        calls.append(items)
        return [len(i) for i in items]

    recent = remembered(lengths, size=2)
    recent(["a", "bb"])
    recent(["a"])  # "a" is now the one used last
    recent(["ccc"])  # so "bb" goes
    assert recent(["a", "bb", "ccc"]) == [1, 2, 3]
    assert calls == [["a", "bb"], ["ccc"], ["bb"]]
    none = remembered(lengths, size=0)
    none(["a"]), none(["a"])
    assert calls[-2:] == [["a"], ["a"]]


def test_threads_share_one_memory() -> None:
    items = [f"item {i % 50}" for i in range(2000)]
    once = remembered(lambda batch: [len(i) for i in batch], size=64)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: once([i])[0], items))
    assert answers == [len(i) for i in items]


def test_an_item_not_to_keep_is_computed_at_every_call() -> None:
    calls: list[list[str]] = []

    def lengths(items: list[str]) -> list[int]:
        calls.append(items)
        return [len(i) for i in items]

    short = remembered(lengths, size=8, keep=lambda item: len(item) <= 3)
    assert short(["abc", "abcd"]) == [3, 4] and short(["abc", "abcd"]) == [3, 4]
    assert calls == [["abc", "abcd"], ["abcd"]]
