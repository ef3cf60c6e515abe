# The single source of the commands that the README and CI use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint bench bench-collapse bench-prdc schema docs run serve demo-cli clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check --no-cache layers tests bench functions infra_cdk gpu_batch app.py
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_speed.py
	$(BIN)/python bench/bench_prdc.py

bench-collapse: install
	$(BIN)/python bench/bench_collapse.py --seeds 5 --generations 8

schema: install
	$(BIN)/python -c "import json; from synthos.result import ValidationResult as V; \
	print(json.dumps(V.model_json_schema(), indent=2, sort_keys=True))" > docs/result-schema.json

# the generated API reference (docs/openapi.json, docs/api-reference.md) and result schema
docs: schema
	$(BIN)/python -m synthos.api.reference_doc docs

# the local stack (docs/local.md): `run` walks a user's journey through the API against a fresh
# stack and stops it (exit 0 only if every step succeeded); `serve` keeps it up until Ctrl-C.
# SYNTHOS_PORT (API, default 8000) and SYNTHOS_MOTO_PORT (default: a free port) choose the ports.
run: install
	$(BIN)/python -m synthos.local run

serve: install
	$(BIN)/python -m synthos.local serve

# the engine alone, without the stack: the CLI on the bundled samples
SAMPLES := layers/synthos/data
demo-cli: install
	@mkdir -p .run
	$(BIN)/synthos validate $(SAMPLES)/breast_cancer_synthetic_healthy.parquet \
	  --reference $(SAMPLES)/breast_cancer_reference.parquet --json .run/healthy.json
	$(BIN)/synthos validate $(SAMPLES)/breast_cancer_synthetic_collapsed.parquet \
	  --reference $(SAMPLES)/breast_cancer_reference.parquet --json .run/collapsed.json
	@echo "results written to .run/healthy.json and .run/collapsed.json"

clean:
	rm -rf .run $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info layers/*.egg-info
