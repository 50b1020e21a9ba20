# Two commands: `make run` and `make test`. Each sets itself up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: run test test-deps lint bench lock clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.deps

run: $(VENV)/.deps
	$(PY) app.py $(ARGS)

# The servers the tests start (Prometheus, PostgreSQL, PgBouncer): installed with apt-get under root, else one line
# naming the command (scripts/test_deps.py).
test-deps:
	@$(PYTHON) scripts/test_deps.py

test: test-deps $(VENV)/.dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/pytest

bench: $(VENV)/.dev-deps
	$(PY) -m bench

# requirements.lock: requirements.txt resolved, every version pinned with its hashes; what the image installs.
# Refresh it after changing requirements.txt (tests/app/test_image_files.py fails until then).
lock: $(VENV)/.dev-deps
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
