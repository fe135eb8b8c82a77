"""An evaluation embeds each reply once, however many of its parts read it."""

from __future__ import annotations

import numpy as np

from tasks.models.embeddings import remembering


def test_each_distinct_text_is_embedded_once_and_rows_keep_their_order() -> None:
    calls: list[list[str]] = []

    def lengths(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[len(t), 1.0] for t in texts]).reshape(-1, 2)

    embed = remembering(lengths)
    first = embed(["ab", "abc", "ab"])
    again = embed(["abc", "abcd"])
    assert first[:, 0].tolist() == [2, 3, 2] and again[:, 0].tolist() == [3, 4]
    assert calls == [["ab", "abc"], ["abcd"]]
    assert embed([]).shape == (0, 2)
