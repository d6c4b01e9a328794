# Two commands do everything on a fresh machine (Python 3.11+, pip, Node.js and npm):
#   make run    start the bot on the embedded default (SQLite under ./var, the example directory)
#   make test   lint, type-check and run the whole test suite
# Both create the virtualenv and install the pinned tools on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
LOCALE := dialogs/locale
PO_FILES := $(wildcard $(LOCALE)/*/LC_MESSAGES/chatops.po)

# CI runs on a machine with PostgreSQL on 127.0.0.1:5432; the storage contract tests run there too.
ifeq ($(CI),true)
export CHATOPS_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
endif

.PHONY: run test lint typecheck pytest install lock clean bench messages

run: $(STAMP)
	$(BIN)/chatops serve

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest

install: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.lock pyproject.toml $(PO_FILES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/pybabel compile --domain chatops --directory $(LOCALE) --statistics
	touch $@

# Message ids come from the code (_("…"), N_("…")); this adds new ones to every catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords N_ --no-location --sort-output --no-wrap \
		--omit-header --output-file $(VENV)/chatops.pot bot dialogs adapters storage
	$(BIN)/pybabel update --domain chatops --input-file $(VENV)/chatops.pot --output-dir $(LOCALE) \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	# the dates in the header would differ on every run and every branch
	sed -i '/^"POT-Creation-Date\|^"PO-Revision-Date\|^"Generated-By/d' $(PO_FILES)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Benchmarks measure and report (they are not tests); pandas is only needed here.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BIN)/python bench/understanding.py
	$(BIN)/python bench/sla_vs_pandas.py
	$(BIN)/python bench/sla_cli_batch.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/watcher_scale.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/api.py
ifneq ($(CHATOPS_TEST_POSTGRES_URL),)
	$(BIN)/python bench/api.py --postgres $(CHATOPS_TEST_POSTGRES_URL)
endif

# Re-resolve the pinned versions after changing pyproject.toml's dependencies.
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
