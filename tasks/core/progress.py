"""Progress of long work: a bar on a terminal, otherwise a log line every few units (DVC, Prefect, CI logs)."""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("llmops.progress")


class Progress:
    def __init__(self, total: int, start: int = 0, every: int = 1, desc: str = "train", unit: str = "step") -> None:
        self.total, self.every, self.desc, self.unit = total, every, desc, unit
        self.bar = None
        if _drawable_terminal():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, desc=desc, unit=unit, dynamic_ncols=True)

    def update(self, done: int, values: dict[str, float] | None = None) -> None:
        shown = values or {}
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()}, refresh=False)
            self.bar.update(done - self.bar.n)
        elif done % self.every == 0 or done == self.total:
            extra = " ".join(f"{k} {v:.4g}" for k, v in shown.items())
            log.info("%s: %s %d/%d %s", self.desc, self.unit, done, self.total, extra)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _drawable_terminal() -> bool:
    """stderr is a terminal with a size; tqdm draws nothing on ptys that report 0 rows (some CI runners)."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return sys.stderr.isatty() and size.columns > 0 and size.lines > 0
