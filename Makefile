# airhttp developer commands. Needs only GNU make and python3 (>= 3.10) with venv.
#   make demo   run the examples/demo.py walk-through against an in-process server
#   make test   run the test suite
#   make lint   ruff, mypy and import-linter (the layers of docs/architecture.md)
#   make bench  client benchmark on asyncio, written into docs/benchmarks.md (bench-uvloop:
#               the same on uvloop; bench-quick: a short run that writes no docs)
#   make docs   build the documentation site into docs/_build/html (Sphinx, warnings as errors)
#   make stress the soak (100,000 requests with ~10% faults, WebSocket sessions) and the
#               10,000-request cancellation run, each bounded in time (docs/reliability.md)
#   make fuzz   coverage-guided fuzzing of the parsers with atheris, 60 s per target
#               (known bugs stepped over; FUZZ_ARGS="--seconds 30 --targets chunked" for a
#               strict run of one); installs the `fuzz` extra

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: install test demo lint bench bench-uvloop bench-quick docs stress fuzz clean distclean

install: $(STAMP)

# The stamp makes repeated `make test` skip pip; it is redone whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test,lint,bench,docs]'
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py --docs $(BENCH_ARGS)

bench-uvloop: $(STAMP)
	$(BIN)/python bench/run.py --uvloop --docs $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

STRESS_ARGS ?=

stress: $(STAMP)
	$(BIN)/python -m tests.soak.run --seconds 240 $(STRESS_ARGS)
	$(BIN)/python -m tests.soak.cancel --seconds 120

FUZZ_ARGS ?= --lenient

fuzz: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[fuzz]'
	$(BIN)/python -m tests.fuzz.run $(FUZZ_ARGS)

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis bench/results \
		docs/_build
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

# Also drops the virtualenv, so the next command reinstalls from scratch.
distclean: clean
	rm -rf $(VENV)
