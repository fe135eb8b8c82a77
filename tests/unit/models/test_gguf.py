"""GGUF export with llama.cpp's converter, and llama.cpp answering the prompt transformers answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from serving.engine import encode_chat
from tasks.core.errors import ModelSourceError
from tasks.models.gguf import cached_gguf, export_gguf, kept, weights_digest
from tasks.models.llamacpp import GgufServer


@pytest.fixture(scope="module")
def f32_gguf(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_gguf(tiny_model_dir, tmp_path_factory.mktemp("gguf") / "tiny-f32.gguf", "f32")


def test_export_writes_the_requested_type(tiny_model_dir: Path, tmp_path: Path) -> None:
    from gguf import GGMLQuantizationType, GGUFReader

    out = export_gguf(tiny_model_dir, tmp_path / "tiny.gguf")
    reader = GGUFReader(out)
    types = {t.name: t.tensor_type for t in reader.tensors}
    assert types["blk.0.attn_q.weight"] == GGMLQuantizationType.Q8_0  # 2-D weights quantized, norms kept in f32
    assert types["blk.0.attn_norm.weight"] == GGMLQuantizationType.F32
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.gguf"]  # no temporary file left behind


def test_greedy_replies_match_transformers_on_the_f32_gguf(tiny_model_dir: Path, f32_gguf: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    server = GgufServer(f32_gguf, slots=2, ctx_per_slot=256)
    for question in ("My router is down", "Why is my bill higher this month?"):
        ids = encode_chat(tokenizer, [{"role": "user", "content": question}])
        with torch.inference_mode():
            out = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)  # fmt: skip
        done = server.complete(ids, 8)
        assert done.text == tokenizer.decode(out[0, len(ids) :], skip_special_tokens=True)
        assert done.finish_reason == "length" and done.tokens == 8


def test_a_q8_0_kv_cache_needs_heads_it_can_quantize(f32_gguf: Path) -> None:
    """The tiny model's 16-value heads cannot be stored in q8_0's 32-value blocks (SmolLM2's 64 can)."""
    with pytest.raises(ModelSourceError, match="multiple of 32"):
        GgufServer(f32_gguf, slots=1, ctx_per_slot=256, kv_cache="q8_0")


def test_a_callback_that_returns_true_cancels(tiny_model_dir: Path, f32_gguf: Path) -> None:
    from transformers import AutoTokenizer

    ids = encode_chat(AutoTokenizer.from_pretrained(tiny_model_dir), [{"role": "user", "content": "hello"}])
    server = GgufServer(f32_gguf, slots=1, ctx_per_slot=256)
    pieces: list[str] = []
    done = server.complete(ids, 64, on_text=lambda piece: pieces.append(piece) or len(pieces) == 2)
    assert done.finish_reason == "cancelled" and len(pieces) == 2


def test_a_prompt_longer_than_the_slot_is_refused_in_llamas_words(f32_gguf: Path) -> None:
    from tasks.models.llamacpp import GenerationError

    server = GgufServer(f32_gguf, slots=1, ctx_per_slot=256)
    with pytest.raises(GenerationError, match="context"):
        server.complete(list(range(1000)), 4)


def test_the_cache_converts_once_per_content(tiny_model_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copy = shutil.copytree(tiny_model_dir, tmp_path / "copy")
    first = cached_gguf(copy)
    assert cached_gguf(copy) == first and first.stat().st_ino == cached_gguf(copy).stat().st_ino  # not rewritten
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "rms_norm_eps": 1e-5}))
    assert weights_digest(copy) not in first.name


def test_the_cache_keeps_the_most_recently_used(tmp_path: Path) -> None:
    """A scheduled retrain converts every evaluated fine-tune: the cache keeps the newest few, and the one in use."""
    import os

    files = [tmp_path / f"{n:02d}-q8_0.gguf" for n in range(12)]
    for n, f in enumerate(files):
        f.write_bytes(b"GGUF")
        os.utime(f, (1_000_000 + n, 1_000_000 + n))
    (tmp_path / "notes.txt").write_text("not a GGUF")
    kept(files[0], keep=4)  # the oldest, used again
    assert sorted(p.name for p in tmp_path.glob("*.gguf")) == [f.name for f in (files[0], *files[9:])]
    assert (tmp_path / "notes.txt").is_file()


def test_bad_inputs_name_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match="no transformers model there"):
        export_gguf(tmp_path, tmp_path / "x.gguf")
    (tmp_path / "config.json").write_text('{"architectures": ["NoSuchForCausalLM"]}')
    with pytest.raises(ModelSourceError, match="converter failed"):
        export_gguf(tmp_path, tmp_path / "x.gguf")
    with pytest.raises(ModelSourceError, match="q4_k"):
        export_gguf(tmp_path, tmp_path / "x.gguf", "q4_k")
    with pytest.raises(ModelSourceError, match="no GGUF file"):
        GgufServer(tmp_path / "missing.gguf", slots=1)
    assert not list(tmp_path.glob("*.gguf*"))
