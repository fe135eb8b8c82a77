"""The logged MLflow model's chat generation: static batches through transformers' `generate`, since pyfunc
imports nothing else of the project. Evaluation and the server batch continuously (tasks/models/batching.py)."""

from __future__ import annotations

import torch


def generate_replies(
    model,
    tokenizer,
    conversations: list[list[dict]],
    max_new_tokens: int = 128,
    temperature: float = 0.0,
    batch_size: int = 8,
) -> list[str]:
    """The assistant's next turn for each conversation; greedy when temperature is 0 (reproducible)."""
    tokenizer.padding_side = "left"
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    replies: list[str] = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(texts[start : start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=pad_id, **sampling)
        new = out[:, enc["input_ids"].shape[1] :]
        replies.extend(t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True))
    return replies
