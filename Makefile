# Two front doors: `make demo` (install, seed, serve on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test lint bench clean dashboard-vendor docs

install: $(VENV)/.installed devcouch/node_modules/.package-lock.json deploy/lint/node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml dev/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' -e ./dev  # the tooling next to the service, both from here
	touch $@

# The CouchDB stand-in for machines without CouchDB or Docker (development only).
devcouch/node_modules/.package-lock.json: devcouch/package-lock.json
	cd devcouch && npm ci --omit=optional --no-audit --no-fund

# The deployment files' linter (dockerfilelint, pinned; tests/test_deploy.py runs it).
deploy/lint/node_modules/.package-lock.json: deploy/lint/package-lock.json
	cd deploy/lint && npm ci --ignore-scripts --no-audit --no-fund

demo: install
	$(BIN)/qubicle-reports demo

test: install
	$(BIN)/ruff check app dev tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m qubicle_dev.docgen --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/pytest -q

# Refresh the dashboard's vendored chart library from app/web/dashboard/package-lock.json
# (only when bumping it: the vendored file is committed, installing needs no Node.js).
dashboard-vendor:
	app/web/dashboard/vendor.sh

# Rewrite the generated reference pages (docs/reference/) from the code, then serve the site.
docs: install
	$(BIN)/python -m qubicle_dev.docgen
	$(BIN)/mkdocs serve

bench: install
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) devcouch/node_modules .pytest_cache .hypothesis
