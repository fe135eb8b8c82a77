from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tasks.core.errors import DataFormatError
from tasks.models.base_model import load_tokenizer
from tasks.training.sft_data import IGNORE, Schedule, collate, encode, load_conversations, row_losses


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    return load_tokenizer(tiny_model_dir)


def turn(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def labelled_text(tokenizer, encoded, row: int) -> str:
    return tokenizer.decode([t for t in encoded.labels[row] if t != IGNORE])


def test_only_assistant_turns_and_their_end_token_carry_labels(tokenizer):
    conv = [
        turn("user", "My router blinks red."),
        turn("assistant", "Restart the optical terminal first."),
        turn("user", "Still red."),
        turn("assistant", "Then check the WAN cable."),
    ]
    enc = encode(tokenizer, [conv], max_seq_len=512)
    text = labelled_text(tokenizer, enc, 0)
    assert text == "Restart the optical terminal first.<|im_end|>Then check the WAN cable.<|im_end|>"
    assert "router" not in text and "system" not in text
    assert enc.targets[0] == sum(1 for t in enc.labels[0][1:] if t != IGNORE)


def test_system_prompt_is_context_not_target(tokenizer):
    conv = [turn("system", "Be brief."), turn("user", "Hi"), turn("assistant", "Hello.")]
    enc = encode(tokenizer, [conv], max_seq_len=512)
    assert labelled_text(tokenizer, enc, 0) == "Hello.<|im_end|>"


def test_truncation_is_counted_and_rows_without_targets_are_skipped(tokenizer):
    long_user = [turn("user", "word " * 300), turn("assistant", "ok")]
    long_answer = [turn("user", "Hi"), turn("assistant", "word " * 300)]
    enc = encode(tokenizer, [long_user, long_answer], max_seq_len=64)
    assert enc.truncated == 2
    assert enc.skipped_no_target == 1
    assert len(enc.input_ids) == 1 and len(enc.input_ids[0]) == 64
    assert enc.source == [1]  # the row kept is the second conversation: the first lost its answer


def test_missing_or_empty_split_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataFormatError, match="dvc repro split"):
        load_conversations(tmp_path / "train.jsonl")
    (tmp_path / "train.jsonl").write_text("")
    with pytest.raises(DataFormatError, match="no rows"):
        load_conversations(tmp_path / "train.jsonl")


def schedule(n: int = 50, world: int = 2, micro: int = 3, accum: int = 2, **kw) -> Schedule:
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 200, size=n)
    return Schedule(
        lengths, lengths // 2, micro, world, accum, seed=kw.get("seed", 1), group_by_length=kw.get("group", True)
    )


@pytest.mark.parametrize("group", [True, False])
def test_each_epoch_reads_distinct_rows_split_disjointly_across_ranks(group: bool):
    s = schedule(group=group)
    per_epoch = s.micro_steps_per_epoch
    assert per_epoch == 50 // 6
    seen = [s.rank_rows(m, r) for m in range(per_epoch) for r in range(2)]
    flat = np.concatenate(seen)
    assert len(flat) == len(set(flat.tolist())) == per_epoch * 6
    assert all(len(rows) == 3 for rows in seen)


def test_schedule_is_a_pure_function_of_seed_and_position():
    a, b = schedule(), schedule()
    assert all((a.rank_rows(m, 1) == b.rank_rows(m, 1)).all() for m in range(0, 30, 7))
    assert not all((a.global_batch(m) == schedule(seed=2).global_batch(m)).all() for m in range(8))
    # the second epoch is a new order, not a repeat
    per_epoch = a.micro_steps_per_epoch
    assert not (a.global_batch(0) == a.global_batch(per_epoch)).all()


def test_length_grouping_reduces_padding():
    grouped, plain = schedule(n=400, group=True), schedule(n=400, group=False)

    def padding(s: Schedule) -> int:
        return sum(
            int(s.lengths[rows].max() * len(rows) - s.lengths[rows].sum())
            for m in range(s.micro_steps_per_epoch)
            for rows in (s.rank_rows(m, 0), s.rank_rows(m, 1))
        )

    assert padding(grouped) < padding(plain) / 2


def test_window_targets_count_every_rank_and_micro_step():
    s = schedule()
    expected = sum(int(s.targets[s.global_batch(m)].sum()) for m in (2, 3))
    assert s.window_targets(1) == expected


def test_too_little_data_for_one_step_names_the_knobs():
    with pytest.raises(DataFormatError, match="micro_batch_size 3 x world_size 2 x grad_accum_steps 2"):
        schedule(n=5).steps_for(epochs=1, max_steps=None)
    assert schedule().steps_for(epochs=2, max_steps=None) == 2 * 8 // 2
    assert schedule().steps_for(epochs=1, max_steps=100) == 100


def test_collate_pads_right_and_masks_padding(tokenizer):
    conv = [
        [turn("user", "Hi"), turn("assistant", "Hello there, how can I help?")],
        [turn("user", "x"), turn("assistant", "y")],
    ]
    enc = encode(tokenizer, conv, max_seq_len=512)
    batch = collate(enc, np.array([0, 1]), pad_id=0, multiple_of=8)
    width = batch["input_ids"].shape[1]
    assert width % 8 == 0 and width >= max(len(i) for i in enc.input_ids)
    short = len(enc.input_ids[1])
    assert batch["attention_mask"][1, :short].all() and not batch["attention_mask"][1, short:].any()
    assert (batch["labels"][1, short:] == IGNORE).all()


def test_row_losses_sum_to_the_models_own_loss(tokenizer, tiny_model_dir: Path):
    """Per-row sums, batched with padding, add up to what the model's loss says for each row alone."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    convs = [
        [turn("user", q), turn("assistant", a)]
        for q, a in [("Hi", "Hello there, how can I help?"), ("x", "y"), ("Roaming in Spain?", "Included in EU plans.")]
    ]
    enc = encode(tokenizer, convs, max_seq_len=512)
    rows = np.array([2, 0, 1])
    losses = row_losses(model, enc, rows, batch_size=2, pad_id=0, device="cpu")
    for loss, row in zip(losses, rows, strict=True):
        batch = collate(enc, np.array([row]), pad_id=0)
        with torch.no_grad():
            alone = float(model(**batch).loss) * enc.targets[row]
        assert loss == pytest.approx(alone, rel=1e-4)
