"""Chat rows -> token ids with loss on assistant turns only, and the batch schedule every rank agrees on.

The schedule is a pure function of (seed, epoch, world size), so a resumed run finds its data position
from the micro-step counter alone and each rank knows how many target tokens the whole global batch has
(which makes the loss a true token mean across ranks and accumulation steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from tasks.core.errors import DataFormatError
from tasks.core.files import read_jsonl

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[list[int]]
    labels: list[list[int]]
    truncated: int
    skipped_no_target: int
    """Rows whose assistant turns were all cut off by max_seq_len; not trained on."""
    source: list[int] = field(default_factory=list)
    """The conversation each row was encoded from (its index in the input), skipped ones left out."""

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(ids) for ids in self.input_ids], dtype=np.int64)

    @property
    def targets(self) -> np.ndarray:
        """Predicted tokens per row, as the causal-LM loss counts them (labels shifted by one)."""
        return np.array([sum(1 for t in lab[1:] if t != IGNORE) for lab in self.labels], dtype=np.int64)


def _assistant_spans(tokenizer, messages: list[dict], where: str) -> tuple[str, list[tuple[int, int]]]:
    """Render the conversation and the character span of each assistant turn (its end-of-turn token included)."""
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant" or i == 0:
            continue
        before = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True)
        through = tokenizer.apply_chat_template(messages[: i + 1], tokenize=False).rstrip()
        if not (full.startswith(through) and through.startswith(before)):
            raise DataFormatError(
                f"{where}: the chat template does not render a conversation as a prefix of its continuation, "
                "so assistant turns cannot be located; use a model whose template is prefix-stable"
            )
        spans.append((len(before), len(through)))
    return full, spans


def encode(tokenizer, conversations: list[list[dict]], max_seq_len: int, where: str = "data") -> Encoded:
    """Tokenise with the model's chat template; labels are IGNORE outside assistant turns."""
    rendered = [_assistant_spans(tokenizer, conv, f"{where}: row {i + 1}") for i, conv in enumerate(conversations)]
    batch = tokenizer([text for text, _ in rendered], add_special_tokens=False, return_offsets_mapping=True)
    input_ids, labels, source = [], [], []
    truncated = skipped = 0
    for i, ((_, spans), ids, offsets) in enumerate(
        zip(rendered, batch["input_ids"], batch["offset_mapping"], strict=True)
    ):
        lab = [
            tok if any(s <= start < e for s, e in spans) else IGNORE
            for tok, (start, _) in zip(ids, offsets, strict=True)
        ]
        if len(ids) > max_seq_len:
            truncated += 1
            ids, lab = ids[:max_seq_len], lab[:max_seq_len]
        if all(t == IGNORE for t in lab[1:]):
            skipped += 1
            continue
        input_ids.append(ids)
        labels.append(lab)
        source.append(i)
    return Encoded(input_ids, labels, truncated, skipped, source)


def load_conversations(path: Path) -> list[list[dict]]:
    """The `messages` of each row of a split file written by the split stage."""
    if not path.is_file():
        raise DataFormatError(f"{path}: split file not found; run `dvc repro split` first")
    rows = [row["messages"] for row in read_jsonl(path)]
    if not rows:
        raise DataFormatError(f"{path}: no rows; the split stage produced an empty file")
    return rows


@dataclass(frozen=True)
class Schedule:
    """Which rows each rank reads at each micro-step; micro-steps run on across epoch boundaries."""

    lengths: np.ndarray
    targets: np.ndarray
    micro_batch: int
    world_size: int
    grad_accum: int
    seed: int
    group_by_length: bool
    _epochs: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def global_micro_batch(self) -> int:
        return self.micro_batch * self.world_size

    @property
    def micro_steps_per_epoch(self) -> int:
        return len(self.lengths) // self.global_micro_batch

    def steps_for(self, epochs: int, max_steps: int | None) -> int:
        """Optimizer steps in the run."""
        steps = epochs * self.micro_steps_per_epoch // self.grad_accum
        if max_steps is not None:
            steps = max_steps
        if steps < 1:
            raise DataFormatError(
                f"{len(self.lengths)} training rows make no full optimizer step at micro_batch_size "
                f"{self.micro_batch} x world_size {self.world_size} x grad_accum_steps {self.grad_accum}; "
                "lower them or add data"
            )
        return steps

    def _epoch(self, epoch: int) -> np.ndarray:
        """Global micro-batches of one epoch, shape (micro_steps, global_micro_batch)."""
        if epoch in self._epochs:
            return self._epochs[epoch]
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.lengths))
        n = self.micro_steps_per_epoch * self.global_micro_batch
        if self.group_by_length:
            mega = self.global_micro_batch * 16
            order = np.concatenate(
                [
                    chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                    for chunk in np.split(order, range(mega, n, mega))
                ]
            )
        batches = order[:n].reshape(self.micro_steps_per_epoch, self.global_micro_batch)
        if self.group_by_length:
            batches = batches[rng.permutation(len(batches))]
        self._epochs.clear()
        self._epochs[epoch] = batches
        return batches

    def global_batch(self, micro_step: int) -> np.ndarray:
        epoch, index = divmod(micro_step, self.micro_steps_per_epoch)
        return self._epoch(epoch)[index]

    def rank_rows(self, micro_step: int, rank: int) -> np.ndarray:
        return self.global_batch(micro_step)[rank * self.micro_batch : (rank + 1) * self.micro_batch]

    def window_targets(self, step: int) -> int:
        """Target tokens over all ranks and accumulation micro-steps of optimizer step `step`."""
        first = step * self.grad_accum
        return int(sum(self.targets[self.global_batch(m)].sum() for m in range(first, first + self.grad_accum)))


def collate(data: Encoded, rows: np.ndarray, pad_id: int, multiple_of: int = 1) -> dict[str, torch.Tensor]:
    """Right-padded tensors for the given rows."""
    width = max(len(data.input_ids[i]) for i in rows)
    width = -(-width // multiple_of) * multiple_of
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, i in enumerate(rows):
        n = len(data.input_ids[i])
        ids[j, :n] = torch.tensor(data.input_ids[i])
        labels[j, :n] = torch.tensor(data.labels[i])
        mask[j, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def scored(forward, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The next-token logits only where a token is scored (the assistant's turns), flattened, with those tokens
    and where they are (`labels[:, 1:] != IGNORE`). The head over about half the positions, and no (rows, length,
    vocabulary) tensor: the largest one a step makes on a 49k vocabulary."""
    labels = batch["labels"][:, 1:]
    targets = labels != IGNORE
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = forward(**inputs, logits_to_keep=torch.nn.functional.pad(targets, (0, 1), value=False)).logits
    return logits.float(), labels[targets], targets


def row_losses(forward, data: Encoded, rows: np.ndarray, batch_size: int, pad_id: int, device) -> np.ndarray:
    """Summed token cross-entropy of each of `rows`, in their order; `forward` is a model or a DeepSpeed engine.

    Per row rather than per batch, so two models can be compared row by row (a paired test) on the same data.
    """
    losses = np.zeros(len(rows), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            batch = {k: v.to(device) for k, v in collate(data, rows[start : start + batch_size], pad_id).items()}
            logits, tokens, targets = scored(forward, batch)
            token = torch.zeros(targets.shape, dtype=torch.float32, device=targets.device)
            token[targets] = torch.nn.functional.cross_entropy(logits, tokens, reduction="none")
            losses[start : start + len(targets)] = token.sum(dim=1).double().cpu().numpy()
    return losses


def loss_sum(forward, data: Encoded, rows: np.ndarray, batch_size: int, pad_id: int, device) -> tuple[float, int]:
    """Summed token cross-entropy and target count over `rows`."""
    return float(row_losses(forward, data, rows, batch_size, pad_id, device).sum()), int(data.targets[rows].sum())
