# The two commands of the README: `make demo` and `make test`. Both start from a bare Python + pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    := tracejoin-out

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(VENV)/.test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/tracejoin run sample_logs --out $(OUT)
	@echo
	$(BIN)/tracejoin report root-causes --out $(OUT)
	@echo
	$(BIN)/tracejoin investigate --at "2026-11-17 14:32" --service order-service --out $(OUT)

lint: $(VENV)/.test
	$(BIN)/ruff check pipeline parsers tests bench
	$(BIN)/ruff format --check pipeline parsers tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
