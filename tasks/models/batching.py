"""Continuous batching: rows of any length decode together in one KV cache, joining and leaving between steps.
The transformers engine serves with it (serving/transformers_engine.py), and evaluation generates with it, so
the gate reads the replies the server would give.

The rows are right-aligned in one KV cache (DynamicCache): a row's left padding is masked out, and each row
carries its own position ids. Joining rows are prefilled together, then their cache is left-padded to the
batch's length and stacked under it; a finished row is dropped from the cache, and columns that only padding
still fills are trimmed away.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


class Rows:
    """The rows generating together on one model: their cache, attention mask, positions and next tokens."""

    def __init__(self, model, pad_id: int) -> None:
        self.model = model
        self.pad_id = pad_id
        self.cache = None
        self.mask = torch.zeros(0, 0, dtype=torch.long)
        self.positions = torch.zeros(0, dtype=torch.long)  # the next token's position id, per row
        self.last = torch.zeros(0, dtype=torch.long)  # the token each row decodes next

    def __len__(self) -> int:
        return len(self.positions)

    def admit(self, prompts: list[list[int]]) -> torch.Tensor:
        """Prefill `prompts` and stack them under the running rows; returns their first tokens' logits."""
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        device = self.model.device
        out = self.model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                         use_cache=True, logits_to_keep=1)  # fmt: skip
        if self.cache is None:
            self.cache, self.mask = out.cache, mask
        else:
            self._stack(out.cache, mask)
        self.positions = torch.cat([self.positions, mask.sum(-1)])
        return out.logits[:, -1]

    def feed(self, tokens: torch.Tensor) -> None:
        """The tokens just chosen for the last rows (all rows after a step, the joiners after `admit`)."""
        self.last = torch.cat([self.last[: len(self) - len(tokens)], tokens.cpu()])

    def _stack(self, cache, mask: torch.Tensor) -> None:
        length = max(self.mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, length), _left_pad(theirs.keys, length)])
            mine.values = torch.cat([_left_pad(mine.values, length), _left_pad(theirs.values, length)])
        self.mask = torch.cat([F.pad(self.mask, (length - self.mask.shape[1], 0)),
                               F.pad(mask, (length - mask.shape[1], 0))])  # fmt: skip

    def step(self) -> torch.Tensor:
        """Feed every row its `last` token; returns the logits of the token after it."""
        device = self.model.device
        self.mask = torch.cat([self.mask, torch.ones(len(self), 1, dtype=torch.long)], dim=1)
        out = self.model(input_ids=self.last[:, None].to(device), attention_mask=self.mask.to(device),
                         position_ids=self.positions[:, None].to(device), cache=self.cache, use_cache=True,
                         logits_to_keep=1)  # fmt: skip
        self.cache = out.cache
        self.positions = self.positions + 1
        return out.logits[:, -1]

    def keep(self, rows: list[int]) -> None:
        """Drop every other row, then the columns left holding only padding."""
        index = torch.tensor(rows, dtype=torch.long)
        self.mask, self.positions, self.last = self.mask[index], self.positions[index], self.last[index]
        used = self.mask.sum(0).nonzero()
        start = int(used[0]) if len(used) else self.mask.shape[1]
        self.mask = self.mask[:, start:]
        for layer in self.cache.layers:
            layer.keys = layer.keys[index.to(layer.keys.device), :, start:]
            layer.values = layer.values[index.to(layer.values.device), :, start:]


def _left_pad(states: torch.Tensor, length: int) -> torch.Tensor:
    return F.pad(states, (0, 0, length - states.shape[-2], 0))


def pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def stop_ids(tokenizer) -> set[int]:
    """The tokens that end a reply: EOS, and padding where a tokenizer pads with something else."""
    return {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}


@dataclass
class Reply:
    tokens: list[int] = field(default_factory=list)  # the stop token left out
    joined: float = 0.0  # when its prompt joined the batch (perf_counter)
    seconds: float = 0.0  # from joining the batch to the last token: a request's latency, less its queueing
    done: bool = False


def greedy(
    model, tokenizer, prompts: list[list[int]], max_new_tokens: int, max_rows: int, on_done: Callable[[], None]
) -> list[Reply]:
    """Each prompt's greedy reply, the prompts taking rows in their order as rows free up. Finished rows leave,
    and new ones join, once a quarter of the rows is free: one cache copy per refill rather than per finished
    row, at the cost of a few finished rows decoding on meanwhile."""
    stops = stop_ids(tokenizer)
    replies, pad = [Reply() for _ in prompts], pad_id(tokenizer)
    rows, running = Rows(model, pad), []
    waiting, refill = iter(range(len(prompts))), max(1, max_rows // 4)

    def choose(logits: torch.Tensor, which: list[int]) -> torch.Tensor:
        tokens = logits.argmax(-1)
        now = time.perf_counter()
        for i, token in zip(which, tokens.tolist(), strict=True):
            reply = replies[i]
            if reply.done:
                continue
            if token not in stops:
                reply.tokens.append(token)
            reply.done = token in stops or len(reply.tokens) >= max_new_tokens
            if reply.done:
                reply.seconds = now - reply.joined
                on_done()
        return tokens

    with torch.inference_mode():
        while True:
            finished = sum(replies[i].done for i in running)
            if running and finished < min(refill, len(running)):
                rows.feed(choose(rows.step(), running))
                continue
            if finished:
                kept = [r for r, i in enumerate(running) if not replies[i].done]
                running = [running[r] for r in kept]
                if kept:
                    rows.keep(kept)
                else:
                    rows = Rows(model, pad)
            joining = [i for _, i in zip(range(max_rows - len(running)), waiting, strict=False)]
            if not running and not joining:
                return replies
            if joining:
                joined = time.perf_counter()
                for i in joining:
                    replies[i].joined = joined
                rows.feed(choose(rows.admit([prompts[i] for i in joining]), joining))
                running += joining
