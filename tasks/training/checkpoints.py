"""Training checkpoints that survive `kill -9`: written under a temporary name, renamed when complete.

Layout of a checkpoint directory:

    latest                 name of the newest complete checkpoint (replaced atomically)
    step-00000020/         DeepSpeed states (adapter, optimizer, scheduler) + rng-rank*.pt + trainer_state.json
    .tmp-step-00000030/    a checkpoint being written; ignored and removed on the next start
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tasks.core.files import atomic_writer, write_json

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.json"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(settings: dict[str, Any], files: list[Path]) -> str:
    """What a checkpoint must match to be resumed: the settings that shape training, and the input bytes."""
    payload = {"settings": settings, "files": {str(p): file_digest(p) for p in files}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def tag(step: int) -> str:
    return f"step-{step:08d}"


def tmp_tag(step: int) -> str:
    return f".tmp-{tag(step)}"


def latest(root: Path) -> Path | None:
    """The newest complete checkpoint, or None."""
    pointer = root / "latest"
    if not pointer.is_file():
        return None
    path = root / pointer.read_text(encoding="utf-8").strip()
    return path if (path / STATE_FILE).is_file() else None


def read_state(checkpoint: Path) -> dict[str, Any]:
    return json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))


def resumable(root: Path, expected: str) -> Path | None:
    """The latest checkpoint when it belongs to this configuration and data; otherwise clear the directory."""
    found = latest(root)
    if found is not None:
        state = read_state(found)
        if state.get("fingerprint") == expected and not state.get("finished"):
            return found
        why = "finished" if state.get("finished") else "made with other settings or data"
        log.info("checkpoints in %s were %s; starting a fresh run", root, why)
    if root.exists():
        shutil.rmtree(root)
    return None


def remove_partial(root: Path) -> None:
    """Drop checkpoints left half-written by a killed run."""
    for partial in root.glob(".tmp-step-*"):
        shutil.rmtree(partial, ignore_errors=True)


def commit(root: Path, step: int, keep: int) -> Path:
    """Publish a fully written checkpoint and prune to the newest `keep` (rank 0 only, after a barrier)."""
    final = root / tag(step)
    if final.exists():
        shutil.rmtree(final)
    (root / tmp_tag(step)).rename(final)
    with atomic_writer(root / "latest") as fh:
        fh.write(final.name.encode())
    for old in sorted(root.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def write_state(directory: Path, state: dict[str, Any]) -> None:
    write_json(directory / STATE_FILE, state)


def save_rng(directory: Path, rank: int) -> None:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(state, directory / f"rng-rank{rank}.pt")


def load_rng(directory: Path, rank: int) -> None:
    state = torch.load(directory / f"rng-rank{rank}.pt", weights_only=False)
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
