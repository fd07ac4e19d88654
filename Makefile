# Two entry points: `make demo` (the main job) and `make test` (the suite). Both create .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,torch,models,onnx,tune]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/matmul.py
	$(BIN)/python benchmarks/compile_speed.py
	$(BIN)/python benchmarks/ops.py
	$(BIN)/python benchmarks/models.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
