"""A serving stack around the tiny model, without a registry: what the app and engine tests share."""

from __future__ import annotations

from pathlib import Path

from serving.engine import Loaded
from serving.service import Service, assemble, load_dir
from tasks.config.schema import IndexParams, ServingParams

REPO = Path(__file__).resolve().parents[1]
NAME = "llmops-support"


ENGINES = ("transformers", "llamacpp")


def load_tiny(model_dir: Path, version: str = "1", engine: str = "transformers") -> Loaded:
    """The tiny model in `engine`; llamacpp: its q8_0 GGUF with the default serving params' slots."""
    return load_dir(model_dir, NAME, version, ServingParams(engine=engine))


def engine_of(loaded: Loaded) -> str:
    return "llamacpp" if type(loaded.model).__name__ == "GgufServer" else "transformers"


def make_service(tmp_path: Path, loaded: Loaded | None, classifier: Path, index: IndexParams | None = None,
                 **serving) -> Service:  # fmt: skip
    """`classifier`: the session's `guard_classifier` fixture; `index`: where retrieval reads (serving.retrieval)."""
    guard = {"classifier": str(classifier), **serving.pop("guard", {})}
    if loaded is not None:
        serving.setdefault("engine", engine_of(loaded))
    params = ServingParams(request_log=f"sqlite:///{tmp_path / 'requests.db'}", guard=guard, **serving)
    service = assemble(params, NAME, REPO, index=index)
    if loaded is not None:
        service.engine.swap(loaded)
        service.on_model(loaded, None)
    return service
