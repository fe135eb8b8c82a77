from pathlib import Path

import numpy as np
import pytest

from tasks.config import DriftParams
from tasks.drift import check, mean_shift_test, read_prompts
from tasks.errors import DataFormatError


def unit_rows(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    x = rng.normal(size=(n, 16))
    x[:, 0] += shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_mean_shift_test_separates_shifted_from_same() -> None:
    rng = np.random.default_rng(0)
    _, p_same = mean_shift_test(unit_rows(rng, 300, 0), unit_rows(rng, 200, 0), 200, seed=1)
    _, p_shifted = mean_shift_test(unit_rows(rng, 300, 0), unit_rows(rng, 200, 1.0), 200, seed=1)
    assert p_same > 0.05
    assert p_shifted == pytest.approx(1 / 201)  # no permutation reaches the observed shift


def test_too_little_traffic_decides_nothing() -> None:
    result = check(["a prompt"] * 50, ["another"] * 5, DriftParams(min_window=10))
    assert result.status == "insufficient" and not result.drifted
    assert "too little traffic: 5 prompts" in result.reason


def test_read_prompts_takes_the_last_user_turn_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "window.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "x"},'
        ' {"role": "user", "content": "second"}]}\n{"prompt": "bare"}\n\n'
    )
    assert read_prompts(path) == ["second", "bare"]
    path.write_text('{"prompt": "ok"}\n{not json\n')
    with pytest.raises(DataFormatError, match=r"window.jsonl:2: not JSON"):
        read_prompts(path)
