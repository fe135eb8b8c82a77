"""The guard's own sentence encoder (`guard_model.encoder_epochs` > 0): all-MiniLM-L6-v2 fine-tuned to tell
attacks from support text.

The shipped encoder places sentences by topic, so a request to "print your setup text" sits near questions about
setting up a router. A few epochs of classification on the corpus (mean-pooled embeddings, as the encoder is used)
move attacks apart from support text; a second head of the classifier reads this encoder's features
(tasks/guard/build.py), and it is saved beside the weights as a sentence-transformers folder (safetensors: loading
it runs no code) with its ONNX graph, which is what the guard runs.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.config.schema import GuardModelParams
from tasks.core.errors import ConfigError
from tasks.core.progress import Progress
from tasks.guard.features import Embed, reveal

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ENCODER = "encoder"
GRAPH = "model.onnx"  # int8 weights with guard_model.int8, as the classifier's heads were fitted on


def fine_tune(texts: list[str], labels: list[int], p: GuardModelParams, out: Path) -> Path:
    """Fine-tune the shipped encoder on `texts` and save it to `out`, with the ONNX graph the guard runs."""
    from tasks.models.embeddings import export

    trained(texts, labels, p).save(str(out))
    export(out, out / GRAPH, int8=p.int8)
    return out


def trained(texts: list[str], labels: list[int], p: GuardModelParams) -> SentenceTransformer:
    """The shipped encoder fine-tuned on `texts` (revealed, as the classifier reads them); attacks and benign rows
    weigh the same however many of each."""
    import torch
    from sentence_transformers import SentenceTransformer

    from tasks.models.embeddings import model_path

    torch.manual_seed(p.seed)
    rng = random.Random(p.seed)
    model = SentenceTransformer(str(model_path()), device="cpu")
    body, tokenizer = model[0].auto_model, model.tokenizer
    head = torch.nn.Linear(body.config.hidden_size, 2)
    revealed = [reveal(t)[0] for t in texts]
    attacks = sum(labels)
    weight = torch.tensor([len(labels) / (2 * (len(labels) - attacks)), len(labels) / (2 * attacks)])
    optimizer = torch.optim.AdamW([*body.parameters(), *head.parameters()], lr=p.encoder_learning_rate)
    per_epoch = max(len(texts) // p.encoder_batch_size, 1)
    total = p.encoder_epochs * per_epoch
    warmup = max(total // 10, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * (total - s) / total)
    progress = Progress(total, every=max(total // 10, 1), desc="guard encoder")
    order = list(range(len(texts)))
    body.train()
    step = 0
    for _ in range(p.encoder_epochs):
        rng.shuffle(order)
        for start in range(0, per_epoch * p.encoder_batch_size, p.encoder_batch_size):
            batch = order[start : start + p.encoder_batch_size]
            encoded = tokenizer(
                [revealed[i] for i in batch],
                truncation=True,
                max_length=p.encoder_max_tokens,
                padding=True,
                return_tensors="pt",
            )
            hidden = body(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            logits = head(pooled) * 10.0  # unit vectors: the scale lets the head reach confident probabilities
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([labels[i] for i in batch]), weight=weight)
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            progress.update(step, {"loss": float(loss.detach())})
    progress.close()
    body.eval()
    return model


def load_encoder(path: Path, *, int8: bool) -> Embed:
    """The fine-tuned encoder at `path` as an `Embed`: unit-length rows, like the shipped one, on ONNX Runtime
    (`int8`: its graph has int8 weights, as `fine_tune` wrote it with guard_model.int8)."""
    from tasks.models.embeddings import encoder

    if not (path / GRAPH).is_file():
        raise ConfigError(f"{path}: a guard encoder without its ONNX graph ({GRAPH}); run `dvc repro guard` again")
    return encoder(path, path / GRAPH, int8=int8)
