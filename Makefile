# gatekeeper — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup system-deps lint test test-fast demo bench fuzz wheel-check wheelhouse catalogue clean

help:
	@echo "make demo   - run a whole governed release on examples/sample-system"
	@echo "make test   - install everything the suite needs, lint, type-check and run the whole suite"
	@echo "make bench  - benchmarks (ratios against references measured in the same run)"
	@echo "make fuzz   - long property-based and atheris fuzzing runs"
	@echo "make wheelhouse - the offline bundle in $(WHEELHOUSE): gatekeeper and every dependency as wheels"
	@echo "make catalogue - bring the Korean message catalogue in step with the code (then fill in new Korean)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# System packages and runners the suite uses (PostgreSQL, rsync, Chromium, act, gitlab-ci-local).
system-deps:
	bash .ci/install-system-deps.sh

lint: setup
	$(VENV)/bin/ruff check gatekeeper tests benchmarks
	$(VENV)/bin/ruff format --check gatekeeper
	$(VENV)/bin/mypy

test: setup system-deps lint
	$(PY) -m pytest -p no:cacheprovider

# The suite without the slow runner and browser tests, for quick local iterations.
test-fast: setup
	$(PY) -m pytest -p no:cacheprovider -m "not runners and not browser and not slow" -x -q

demo: setup
	$(PY) -m gatekeeper demo --workdir demo-output

bench: setup system-deps
	$(PY) -m benchmarks

fuzz: setup
	$(PY) -m pip install -q -e '.[fuzz]'
	$(PY) -m pytest -p no:cacheprovider tests/adversarial --hypothesis-profile=fuzz
	$(PY) -m tests.adversarial.atheris_run

# The messages the code says, extracted by Babel into gatekeeper/locale/ko/LC_MESSAGES/gatekeeper.po (a new
# one gets an empty Korean text to fill in), and the .mo the package reads, compiled from it.
catalogue: setup
	$(PY) -m gatekeeper.translations

# The offline bundle for runners without a package index: install it with
#   pip install --no-index --find-links $(WHEELHOUSE) sop-gatekeeper
WHEELHOUSE ?= dist/wheelhouse
WHEELHOUSE_PYTHONS ?= 3.11 3.12 3.13 3.14
wheelhouse: setup
	bash .ci/wheelhouse.sh $(PY) $(WHEELHOUSE) "$(WHEELHOUSE_PYTHONS)"

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
