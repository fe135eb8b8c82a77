"""The server on loopback for one local model directory: the offline judge's endpoint during an evaluation.

Same app and engine (serving.engine) as `llmops serve`, without the registry: the model is loaded from disk under
the name the caller gives, the guards are off (a judge reads attacks and PII on purpose), there are no keys or rate
limits, and the request log is a throwaway file.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from serving.service import assemble, load_dir
from tasks.config.schema import Params, ServingParams
from tasks.core.errors import ModelSourceError
from tasks.core.processes import free_port
from tasks.evaluation.judge import Endpoint
from tasks.models.gguf import weights_digest
from tasks.models.inference import dtype_name, inference_dtype


@contextmanager
def local_server(
    model_dir: Path, name: str, serving: ServingParams, dtype: torch.dtype, start_s: float = 60.0
) -> Iterator[str]:
    """Serve `model_dir` as `name` in `dtype`; yields the /v1 base URL, stops the server on exit."""
    import uvicorn

    from serving.app import create_app

    if not (model_dir / "config.json").is_file():
        raise ModelSourceError(f"{model_dir}: no model there for the judge; run `dvc repro base_model` first")
    with tempfile.TemporaryDirectory(prefix="llmops-judge-") as tmp:
        unguarded = {"pii": "flag", "injection": "off", "output": "off"}
        params = serving.model_copy(update={
            "request_log": f"sqlite:///{Path(tmp) / 'requests.db'}", "rate_limit_per_minute": 0,
            "guard": serving.guard.model_copy(update=unguarded),
        })  # fmt: skip
        service = assemble(params, name, score_answers=False)
        service.keys = {}  # loopback only, for this process
        loaded = load_dir(model_dir, name, "local", params, dtype)
        service.engine.warm_up(loaded)
        service.engine.swap(loaded)
        port = free_port()
        config = uvicorn.Config(
            create_app(service), host="127.0.0.1", port=port, log_config=None, log_level="warning", access_log=False
        )
        http = uvicorn.Server(config)
        thread = threading.Thread(target=http.run, name="judge-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + start_s
        while not http.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not http.started:
            http.should_exit = True
            raise ModelSourceError(f"the judge's server on 127.0.0.1:{port} did not start within {start_s:.0f} s")
        try:
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            http.should_exit = True
            thread.join(timeout=30)


@contextmanager
def judge_server(params: Params, base: Path = Path("models/base")) -> Iterator[Endpoint | None]:
    """The judge's endpoint an evaluation needs: this project's server with the base model when evaluate.judge is
    enabled with no base_url of its own (as `llmops evaluate` runs it), else None. Its replies depend on the
    weights and on how they are computed: that is its name in the judge's cache."""
    judge = params.evaluate.judge
    if not judge.enabled or judge.base_url:
        yield None
        return
    dtype, serving = inference_dtype(params.model.inference_dtype), params.serving
    engine = f"llamacpp {serving.gguf_type} {serving.gguf_kv_cache}" if serving.engine == "llamacpp" else "transformers"
    with local_server(base, judge.model, serving, dtype) as url:
        # the digest reads every weight file: only where evaluate.judge.cache will look it up
        identity = f"local {weights_digest(base)} {engine} {dtype_name(dtype)}" if judge.cache else None
        yield Endpoint(url, judge.model, identity=identity)
