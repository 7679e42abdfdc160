# Optimizer Race. `make run` serves the app, `make test` runs every check; both install
# what they need (a .venv here, and Debian packages when run as root).
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8050
WORKERS ?= 2
PYTEST_ARGS ?=
TEST_WORKERS ?= 2
BIN := $(VENV)/bin

.PHONY: run serve worker test lint bench screenshot fixtures clean

$(BIN)/python:
	scripts/system-deps.sh venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: the app on http://$(HOST):$(PORT)/ (one process, for development)
run: $(VENV)/.runtime
	$(BIN)/python app.py --host $(HOST) --port $(PORT)

## serve: the app under gunicorn, $(WORKERS) gthread workers (32 threads each), debug off
serve: $(VENV)/.runtime
	@echo "Optimizer Race: http://$(HOST):$(PORT)/ ($(WORKERS) gunicorn workers)"
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) app:server

## worker: Celery workers for background sweeps (needs REDIS_URL): one takes small sweeps
## only, so that they never wait behind a large one; the other takes both
worker: $(VENV)/.runtime
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	$(BIN)/celery --app app:celery_app worker --loglevel=INFO --concurrency=1 \
		--queues=small --hostname=small@%h & small=$$!; \
	trap 'kill $$small 2>/dev/null' EXIT INT TERM; \
	$(BIN)/celery --app app:celery_app worker --loglevel=INFO --concurrency=1 \
		--queues=large,small --hostname=large@%h

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## test: ruff, then every test, browser tests in headless Chromium included
test: $(VENV)/.dev
	scripts/system-deps.sh browser redis
	$(BIN)/ruff check .
	@mkdir -p build
	@# compile the engine's kernels once, here: numba caches them, and every server and
	@# worker the tests start then loads them instead of compiling them at once
	$(BIN)/python -c "import app"
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --junitxml=build/junit.xml $(PYTEST_ARGS)
	$(BIN)/python scripts/check_test_report.py build/junit.xml

## bench: engine, sweep, browser latency and load benchmarks (ratios within one run)
bench: $(VENV)/.dev
	scripts/system-deps.sh browser
	$(BIN)/python -m benchmarks

## screenshot: docs/screenshot.png, from the running app in headless Chromium
screenshot: $(VENV)/.dev
	scripts/system-deps.sh browser
	$(BIN)/python scripts/screenshot.py docs/screenshot.png

## fixtures: remake the torch references: trajectories, expression derivatives, test functions and typed surfaces, optimizer state (torch in its own venv)
fixtures:
	$(PYTHON) -m venv build/torch-venv
	build/torch-venv/bin/pip install --quiet torch==2.13.0 numpy==2.4.6 lion-pytorch==0.2.5 schedulefree==1.4.1
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_torch_reference.py
	build/torch-venv/bin/python tests/fixtures/make_expression_reference.py
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_surfaces_reference.py
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_state_reference.py
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_recent_reference.py
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_optim_reference.py
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_lbfgs_reference.py
	PYTHONPATH=. build/torch-venv/bin/python tests/fixtures/make_schedules_reference.py

clean:
	rm -rf $(VENV) build .cache .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
