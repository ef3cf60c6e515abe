# The single source of the commands that the README and CI use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint bench bench-collapse bench-prdc schema run clean

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
	$(BIN)/ruff check layers tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_speed.py
	$(BIN)/python bench/bench_prdc.py

bench-collapse: install
	$(BIN)/python bench/bench_collapse.py --seeds 5 --generations 8

schema: install
	$(BIN)/python -c "import json; from synthos.result import ValidationResult as V; \
	print(json.dumps(V.model_json_schema(), indent=2, sort_keys=True))" > docs/result-schema.json

SAMPLES := layers/synthos/data
run: install
	@mkdir -p .run
	$(BIN)/synthos validate $(SAMPLES)/breast_cancer_synthetic_healthy.parquet \
	  --reference $(SAMPLES)/breast_cancer_reference.parquet --json .run/healthy.json
	$(BIN)/synthos validate $(SAMPLES)/breast_cancer_synthetic_collapsed.parquet \
	  --reference $(SAMPLES)/breast_cancer_reference.parquet --json .run/collapsed.json
	@echo "results written to .run/healthy.json and .run/collapsed.json"

clean:
	rm -rf .run $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info layers/*.egg-info
