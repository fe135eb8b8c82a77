"""Which registry version serves: `models:/NAME@ALIAS`, loaded once the server listens, swapped when the alias moves.

The watcher polls the alias. A new version is loaded and warmed up in the background while the old one keeps
serving; only then does the engine switch. A version that fails to load is logged and counted, and the old one
stays. The version is resolved to a number first and loaded by number, so an alias moving mid-load cannot mix
two versions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import torch

from serving.engine import Engine, Loaded
from tasks.core.errors import ModelSourceError
from tasks.registry.store import champion

log = logging.getLogger(__name__)


def load_version(name: str, version: str, dtype: torch.dtype = torch.float32) -> Loaded:
    """The logged chat model (base + adapter merged) of one registry version, in the dtype its evaluation used
    (model.inference_dtype)."""
    import mlflow

    try:
        wrapper = mlflow.pyfunc.load_model(f"models:/{name}/{version}").unwrap_python_model()
    except Exception as err:
        raise ModelSourceError(f"models:/{name}/{version} could not be loaded: {err}") from err
    return Loaded(name=name, version=version, model=wrapper.model.to(dtype), tokenizer=wrapper.tokenizer)


class Watcher:
    def __init__(
        self,
        client,
        name: str,
        alias: str,
        engine: Engine,
        poll_s: float,
        load: Callable[[str, str], Loaded] = load_version,
        on_change: Callable[[Loaded | None, str | None], None] | None = None,
        every_poll: Callable[[], None] | None = None,
    ) -> None:
        self.client, self.name, self.alias, self.engine = client, name, alias, engine
        self.poll_s = poll_s
        self._load = load
        self._on_change = on_change or (lambda loaded, error: None)
        self._every_poll = every_poll or (lambda: None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="champion-watch", daemon=True)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}"

    def resolve(self) -> str:
        """The alias's version, before the server starts: no champion is an error the operator must fix."""
        version = champion(self.client, self.name, self.alias)
        if version is None:
            raise ModelSourceError(f"{self.uri} does not exist: promote a model first (`llmops deploy`)")
        return version

    def check(self) -> None:
        """Swap to the alias's version if it moved; keep the current one on any failure."""
        try:
            version = champion(self.client, self.name, self.alias)
            current = self.engine.current.version if self.engine.current else None
            if version is not None and version != current:
                log.info("%s moved from v%s to v%s; loading it in the background", self.uri, current, version)
                self._swap(version)
        except Exception as err:
            log.error("%s: keeping %s: %s", self.uri, self.engine.current and self.engine.current.label, err)
            self._on_change(None, str(err))

    def _swap(self, version: str) -> Loaded:
        loaded = self._load(self.name, version)
        self.engine.warm_up(loaded)
        self.engine.swap(loaded)
        log.info("serving %s", loaded.label)
        self._on_change(loaded, None)
        return loaded

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        self.check()  # the first load: the server already listens, and /ready answers 503 until it is done
        while not self._stop.wait(self.poll_s):
            self.check()
            self._every_poll()
