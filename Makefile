# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench messages clean

run: $(VENV)/.run
	$(BIN)/bidding serve --host $(HOST) --port $(PORT) --seed-demo

# Test processes (pytest-xdist), each with its own PostgreSQL, S3 server and e2e servers; a test file runs whole on
# one of them, in its order, end-to-end files first (see tests/conftest.py). `TEST_WORKERS=0 make test` runs
# everything in one process.
TEST_WORKERS ?= auto

test: $(VENV)/.test node_modules/.installed lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=20 --cov --cov-report=term-missing:skip-covered

lint: $(VENV)/.test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	@if grep -rnE --include='*.py' '# type: ignore\[[^]]*\] *$$' bidding crypto tests bench; then \
		echo 'a "# type: ignore[code]" needs a comment after it saying why (above)'; exit 1; fi
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.test
	$(BIN)/python bench/http_baseline.py
	$(BIN)/python bench/crypto_envelope.py
	$(BIN)/python bench/tenders_pages.py
	$(BIN)/python bench/audit_log.py
	$(BIN)/python bench/bids.py
	$(BIN)/python bench/experts.py

# Extract every translatable string, merge it into both catalogues, and give English its source text.
# New Chinese entries are left empty for a translator; `make test` fails until they are filled.
messages: $(VENV)/.test
	$(BIN)/pybabel extract --no-location --omit-header -F babel.cfg -o frontend/translations/messages.pot .
	$(BIN)/pybabel update --omit-header --width 120 --ignore-obsolete --no-fuzzy-matching \
		-i frontend/translations/messages.pot -d frontend/translations
	$(BIN)/python -m bidding.i18n

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[test,bench]'
	@touch $@ $(VENV)/.run

# Standard test vectors and the reference age implementation the tests check against (package-lock.json).
# Without npm those tests are skipped, except under CI where they fail.
node_modules/.installed: package.json package-lock.json
	@if command -v $(NPM) >/dev/null; then $(NPM) ci && touch $@; \
	else echo "npm not found: the age vector and interoperability tests will be skipped"; fi

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
