# Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo demo-s3 demo-screenshots test test-fast lint docs docs-linkcheck bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps make reinstalling cheap: only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	touch $@

# The docs extra on top of dev: the API reference imports every adapter's framework.
$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev,docs]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev,bench]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/wsgi_app.py

# The same demo against a local S3: moto's server on 127.0.0.1 (a free port), the bucket set up by
# `s3media setup-bucket`, the app in the private (default) or serve mode: MODE=serve make demo-s3.
# Ctrl-C stops the demo, then moto (whose in-memory bucket goes with it).
MODE ?= private
DEMO_BUCKET := s3media-demo

demo-s3: $(VENV)/.installed-dev
	@set -eu; \
	case "$(MODE)" in private|serve) ;; *) echo "MODE must be private or serve, not '$(MODE)'" >&2; exit 2;; esac; \
	port=$$($(BIN)/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	tmp=$$(mktemp -d); \
	$(BIN)/moto_server -H 127.0.0.1 -p $$port >"$$tmp/moto.log" 2>&1 & moto=$$!; \
	trap 'kill $$moto 2>/dev/null || true; wait $$moto 2>/dev/null || true; rm -rf "$$tmp"' EXIT; \
	trap 'exit 130' INT TERM; \
	tries=0; \
	until $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $$port), 0.5).close()" 2>/dev/null; do \
		tries=$$((tries + 1)); \
		if [ $$tries -ge 100 ]; then echo "moto's server did not start:" >&2; cat "$$tmp/moto.log" >&2; exit 1; fi; \
		sleep 0.1; \
	done; \
	export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1; \
	export S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=$(DEMO_BUCKET) S3MEDIA_REGION=us-east-1; \
	export S3MEDIA_ENDPOINT_URL=http://127.0.0.1:$$port S3MEDIA_DELIVERY=$(MODE) GALLERY_FILE="$$tmp/gallery.json"; \
	if [ "$(MODE)" = private ]; then export S3MEDIA_PRIVATE=true; else export S3MEDIA_RESIZE_BASE_URL=/media/; fi; \
	$(BIN)/s3media setup-bucket $(DEMO_BUCKET) --app-url "http://$${HOST:-127.0.0.1}:$${PORT:-8000}"; \
	echo "local S3 (moto) on http://127.0.0.1:$$port, bucket $(DEMO_BUCKET), $(MODE) mode" >&2; \
	$(BIN)/python examples/wsgi_app.py

# docs/images/demo-desktop.png and demo-phone.png: the demo in Chromium at 1280x800 and 390x844, as its
# browser test drives it (uploads, one refused), each saved as a small PNG.
demo-screenshots: $(VENV)/.installed-dev
	S3MEDIA_DEMO_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_browser_demo.py -q -k detail

# ruff (lint and format) first; mypy --strict over the core and the adapters runs inside the suite.
# Every tier: a browser test that cannot run (no Chromium, no Node.js) stops the run with one
# message naming what to install (S3MEDIA_REQUIRE_ALL_TIERS=1; tests/conftest.py).
test: lint tests/browser/node_modules/.package-lock.json
	S3MEDIA_REQUIRE_ALL_TIERS=1 $(BIN)/python -m pytest

# The unit tier only (no real servers, processes or browser; tiers are set in tests/conftest.py),
# stopping at the first failure: about a minute.  `make test` before you push.
test-fast: lint
	$(BIN)/python -m pytest -m "not integration and not browser" -x -q

# Uppy and esbuild for tests/browser/, as its package-lock.json pins them (those tests say what is missing).
tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	@if command -v npm >/dev/null; then cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser tests need Node.js and npm (apt-get install -y nodejs npm)"; fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site in build/docs/html: every warning is an error, and internal links and anchors
# must resolve (MyST reports a missing one).  External links are not fetched (tests/test_docs.py checks
# their form); `make docs-linkcheck` fetches them where the network allows.
DOCS_OUT := build/docs

docs: $(VENV)/.installed-docs
	$(BIN)/python -m sphinx -b html -W --keep-going -q -d $(DOCS_OUT)/doctrees docs $(DOCS_OUT)/html
	@echo "docs: $(DOCS_OUT)/html/index.html"

docs-linkcheck: $(VENV)/.installed-docs
	$(BIN)/python -m sphinx -b linkcheck -q -d $(DOCS_OUT)/doctrees docs $(DOCS_OUT)/linkcheck

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py

# Side by side with thumbor 7.8.0, in its own virtualenv (it pins its own Pillow); a benchmark, not a
# test: it prints which goals are met and never fails on a number.
THUMBOR_VENV := .bench-venv/thumbor

$(THUMBOR_VENV)/bin/thumbor:
	$(PYTHON) -m venv $(THUMBOR_VENV)
	$(THUMBOR_VENV)/bin/python -m pip --disable-pip-version-check -q install thumbor==7.8.0

bench-peers: $(VENV)/.installed-bench $(THUMBOR_VENV)/bin/thumbor
	$(BIN)/python benchmarks/bench_peers.py --thumbor $(THUMBOR_VENV)/bin/thumbor

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
