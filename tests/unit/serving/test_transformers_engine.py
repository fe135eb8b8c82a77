"""The transformers engine's continuous batching: joiners and leavers do not change anyone's reply."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from serving.engine import Job, Loaded
from serving.transformers_engine import TransformersEngine
from tests.serving import load_tiny

PROMPTS = [[1, 9690, 198, 2683, 359], [504, 4352, 314, 253, 5356, 5646, 11173, 3365], [28, 45, 1021],
           [9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3717, 100, 200, 300]]  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> Loaded:
    return load_tiny(tiny_model_dir)


def generate_alone(loaded: Loaded, prompt: list[int], max_new_tokens: int) -> list[int]:
    with torch.inference_mode():
        out = loaded.model.generate(torch.tensor([prompt]), max_new_tokens=max_new_tokens, do_sample=False,
                                    pad_token_id=loaded.tokenizer.eos_token_id)  # fmt: skip
    return out[0, len(prompt) :].tolist()


async def run(engine: TransformersEngine, budgets: list[int], gap_s: float) -> list[Job]:
    loop = asyncio.get_running_loop()
    jobs = []
    for prompt, budget in zip(PROMPTS * 2, budgets, strict=False):
        jobs.append(Job(prompt, budget, 0.0, [], loop))
        engine.submit(jobs[-1])
        await asyncio.sleep(gap_s)  # later requests join a batch that is already decoding
    for job in jobs:
        while (await job.events.get())[0] not in ("done", "error"):
            pass
    return jobs


def test_joining_and_leaving_rows_answer_as_if_alone(tiny: Loaded) -> None:
    engine = TransformersEngine(max_batch=4, batch_wait_ms=0, max_queue=64)
    sizes: list[int] = []
    engine.on_batch = lambda size, depth: sizes.append(size)
    engine.swap(tiny)
    engine.start()
    budgets = [12, 3, 20, 7, 16, 5, 9, 14]
    try:
        jobs = asyncio.run(run(engine, budgets, gap_s=0.01))
    finally:
        engine.stop()
    eos = tiny.tokenizer.eos_token_id
    for job, budget in zip(jobs, budgets, strict=True):
        alone = generate_alone(tiny, job.prompt_ids, budget)
        expected = alone[: alone.index(eos)] if eos in alone else alone
        assert job.tokens == expected and job.finish_reason == ("stop" if eos in alone else "length")
    assert max(sizes) > 1 and max(sizes) <= 4  # rows joined a running batch, never more than max_batch


def test_a_failed_step_fails_its_batch_and_the_engine_goes_on(tiny: Loaded) -> None:
    class Broken(torch.nn.Module):
        device = torch.device("cpu")

        def forward(self, **kwargs):
            raise RuntimeError("out of memory")

    engine = TransformersEngine(max_batch=4, batch_wait_ms=0, max_queue=64)
    engine.swap(Loaded(tiny.name, "broken", Broken(), tiny.tokenizer))
    engine.start()
    try:
        failed = asyncio.run(run(engine, [4, 4], gap_s=0))
        engine.swap(tiny)
        served = asyncio.run(run(engine, [4], gap_s=0))
    finally:
        engine.stop()
    assert [j.finish_reason for j in failed] == [None, None]
    assert served[0].finish_reason in {"stop", "length"}
