"""Evaluation's continuous batching: rows that leave and join do not change anyone's reply."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import torch
from transformers import AutoModelForCausalLM

from tasks.models.batching import greedy

PROMPTS = [[1, 9690, 198, 2683, 359], [504, 4352, 314, 253, 5356, 5646, 11173, 3365], [28, 45, 1021], [7, 8],
           [9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3717, 100, 200, 300], [4000, 12, 99, 5]]  # fmt: skip


def test_rows_that_leave_and_join_answer_as_if_alone(tiny_model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    torch.manual_seed(0)
    with torch.no_grad():  # the tiny model as built repeats its prompt's last token: wider weights vary replies
        for weight in model.parameters():
            weight.normal_(0, 0.3)
    eos = model.generation_config.eos_token_id
    with torch.inference_mode():
        alone = [model.generate(torch.tensor([p]), max_new_tokens=20, do_sample=False, pad_token_id=eos)[0, len(p) :]
                 for p in PROMPTS * 2]  # fmt: skip
    # A random model rarely ends a reply, so a token it first says at the most different steps stands in for
    # EOS: replies end at different steps and rows free up while others decode.
    firsts = Counter((t, r.tolist().index(t)) for r in alone for t in set(r.tolist()))
    stop = Counter(t for t, _ in firsts).most_common(1)[0][0]
    tokenizer = SimpleNamespace(eos_token_id=stop, pad_token_id=eos)
    expected = []
    for reply in (r.tolist() for r in alone):
        ends = [reply.index(t) for t in (stop, eos) if t in reply]
        expected.append(reply[: min(ends)] if ends else reply)
    done: list[int] = []

    replies = greedy(model, tokenizer, PROMPTS * 2, 20, max_rows=4, on_done=lambda: done.append(1))

    assert [r.tokens for r in replies] == expected
    assert len({len(e) for e in expected}) > 2  # rows did finish at different steps
    assert len(done) == len(replies) and all(r.done and r.seconds > 0 for r in replies)
