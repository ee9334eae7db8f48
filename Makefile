# Every target builds or refreshes .venv from the repo's own files; the stamp makes it a no-op when
# pyproject.toml has not changed since the last install. Bytecode is compiled at install time because
# machines that set PYTHONDONTWRITEBYTECODE would otherwise recompile every module in every process
# (about 1.5 s of CPU per worker, test subprocess or CLI call). It is only a speed-up, so a file some
# package ships that does not compile must not fail the install (hence `|| true`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
UV := $(BIN)/uv

.PHONY: demo test lint bench format venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(BIN)/pip install --quiet uv==0.13.8
	@$(UV) pip install --quiet --python $(BIN)/python -e ".[dev,bench]"
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib src bench >/dev/null || true
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/syncline demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .syncline .pytest_cache .mypy_cache .ruff_cache
