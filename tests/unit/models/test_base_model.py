from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM

from tasks.core.errors import ModelSourceError
from tasks.models.base_model import load_tokenizer, materialize


def test_local_directory_source_round_trips(tiny_model_dir: Path, tmp_path: Path) -> None:
    info = materialize(str(tiny_model_dir), tmp_path / "base")
    source = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert info["parameters"] == sum(p.numel() for p in source.parameters())
    tok = load_tokenizer(tmp_path / "base")
    assert tok.chat_template is not None
    assert not list(tmp_path.glob(".base-*"))  # the temporary build directory is gone


def test_missing_source_names_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match=r"model\.base='.*nowhere': no such directory"):
        materialize(str(tmp_path / "nowhere"), tmp_path / "base")
    assert not (tmp_path / "base").exists()


def test_load_tokenizer_without_materialised_model(tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match="run `dvc repro base_model`"):
        load_tokenizer(tmp_path)
