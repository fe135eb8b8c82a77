"""Schemathesis over the app's own OpenAPI schema: whatever a client sends, the server never answers 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from serving.app import create_app
from tests.serving import load_tiny, make_service


@pytest.fixture
def api_schema(tmp_path: Path, tiny_model_dir: Path, guard_classifier: Path):
    """A fresh app per test: schemathesis starts its lifespan on the first call and ends it with the test."""
    service = make_service(tmp_path, load_tiny(tiny_model_dir), guard_classifier, max_new_tokens=16,
                           default_max_tokens=8, rate_limit_per_minute=0)  # fmt: skip
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(service))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_input_causes_a_server_error(api_schema, mode: GenerationMode) -> None:
    """Drawn from the schema itself (the pytest plugin's lazy fixtures do not run under pytest 9.2)."""

    @given(data=st.data())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def check(data: st.DataObject) -> None:
        case = data.draw(api_schema.as_strategy(mode))
        case.call_and_validate(checks=[not_a_server_error])

    check()
