# close-lake: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PYTHON  := $(VENV)/bin/python
CARGO   ?= cargo
RELEASE := target/release

.PHONY: help demo test lint unit build release venv clean

help:
	@echo "make demo   build, start the bundled Close simulator, export it to ./lake, print what landed"
	@echo "make test   the whole suite: fmt, clippy, unit and integration tests (DuckDB in a local venv)"

release:
	$(CARGO) build --release --workspace --bins

# The demo needs no API key: it exports the simulator, then prints the lake's status.
demo: release
	@set -euo pipefail; \
	rm -rf lake .demo-sim.log; \
	$(RELEASE)/close-sim --port 0 --activities 5000 > .demo-sim.log & sim=$$!; \
	trap 'kill $$sim 2>/dev/null || true; rm -f .demo-sim.log' EXIT; \
	url=""; for _ in $$(seq 100); do \
	  url=$$(grep -o 'http://[^ ]*' .demo-sim.log || true); [ -n "$$url" ] && break; sleep 0.1; \
	done; \
	[ -n "$$url" ] || { echo "the simulator did not start"; exit 1; }; \
	echo "== close-lake export --dest ./lake   (Close simulator at $$url)"; \
	CLOSE_API_KEY=sim-key CLOSE_API_URL=$$url CLOSE_LAKE_LOG=$${CLOSE_LAKE_LOG:-warn} $(RELEASE)/close-lake export --dest ./lake; \
	echo; echo "== close-lake status --dest ./lake"; \
	$(RELEASE)/close-lake status --dest ./lake

# The Python readers the tests use (DuckDB), in a venv of this checkout.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: venv lint
	CLOSE_LAKE_PYTHON=$(abspath $(PYTHON)) $(CARGO) test --workspace

clean:
	rm -rf $(VENV) lake target
