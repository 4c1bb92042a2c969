# close-lake: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PYTHON  := $(VENV)/bin/python
CARGO   ?= cargo
RELEASE := target/release

.PHONY: help demo test bench perf lint release venv faketime clean

help:
	@echo "make demo   build, start the bundled Close simulator, export it to ./lake, print what landed"
	@echo "make test   the whole suite: fmt, clippy, unit and integration tests (DuckDB in a local venv)"
	@echo "make bench  close-lake against its bounds and its peers; writes docs/benchmarks.md (~10 min)"

release:
	$(CARGO) build --release --workspace --bins

# The demo needs no API key: it exports the simulator, then prints the lake's status. It runs the
# debug build, which `make test` reuses: a fresh clone compiles the dependencies once, not twice
# (the release build is `make release`, and `make bench` measures it).
DEBUG := target/debug
demo:
	$(CARGO) build --workspace --bins
	@set -euo pipefail; \
	rm -rf lake .demo-sim.log; \
	$(DEBUG)/close-sim --port 0 --activities 5000 > .demo-sim.log & sim=$$!; \
	trap 'kill $$sim 2>/dev/null || true; rm -f .demo-sim.log' EXIT; \
	url=""; for _ in $$(seq 100); do \
	  url=$$(grep -o 'http://[^ ]*' .demo-sim.log || true); [ -n "$$url" ] && break; sleep 0.1; \
	done; \
	[ -n "$$url" ] || { echo "the simulator did not start"; exit 1; }; \
	echo "== close-lake export --dest ./lake   (Close simulator at $$url)"; \
	CLOSE_API_KEY=sim-key CLOSE_API_URL=$$url CLOSE_LAKE_LOG=$${CLOSE_LAKE_LOG:-warn} $(DEBUG)/close-lake export --dest ./lake; \
	echo; echo "== close-lake status --dest ./lake"; \
	$(DEBUG)/close-lake status --dest ./lake

# close-lake against its bounds and its peers in one run (tests/bench/bench.py): the rate budget behind
# latency, tap-closeio 1.6.6 (installed in .bench-venv), DuckDB's JSON-to-Parquet conversion, memory
# at 200k and 2M activities, a no-op run, CPU per table with a perf profile. Writes docs/benchmarks.md.
bench: perf
	python3 tests/bench/bench.py

# perf (Debian's linux-perf) for the bench's profile; the bench goes on without it if it cannot be had.
perf:
	@command -v perf >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  echo "installing perf (apt)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq linux-perf >/dev/null \
	    || echo "perf could not be installed: the bench skips its profile"; }

# The Python readers the tests use (DuckDB), in a venv of this checkout.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Prints the first http:// address a service logs to $(1), waiting up to 60 s for it.
define address_in
for _ in $$(seq 600); do a=$$(grep -o 'http://[0-9.:]*' $(1) | head -n1 || true); [ -n "$$a" ] && { echo $$a; exit 0; }; sleep 0.1; done; exit 1
endef

# libfaketime (Debian's faketime), which the lease tests use to skew a run's clock.
faketime:
	@ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  echo "installing faketime (apt)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq faketime >/dev/null; }

# The whole suite, with the object stores it needs on free loopback ports: moto (S3) and the fake
# GCS of close-sim. Tests that must stop or reconfigure a store start their own.
test: venv faketime lint
	@set -euo pipefail; \
	$(CARGO) build --quiet -p close-sim --bin fake-gcs; \
	$(VENV)/bin/moto_server -H 127.0.0.1 -p 0 > .moto.log 2>&1 & moto=$$!; \
	target/debug/fake-gcs --port 0 > .fake-gcs.log 2>&1 & gcs=$$!; \
	trap 'kill $$moto $$gcs 2>/dev/null || true; rm -f .moto.log .fake-gcs.log' EXIT; \
	s3=$$($(call address_in,.moto.log)) || { echo "moto did not start:"; cat .moto.log; exit 1; }; \
	gs=$$($(call address_in,.fake-gcs.log)) || { echo "fake-gcs did not start:"; cat .fake-gcs.log; exit 1; }; \
	echo "test services: moto at $$s3, fake GCS at $$gs"; \
	CLOSE_LAKE_TEST_S3_ENDPOINT=$$s3 CLOSE_LAKE_TEST_GCS_URL=$$gs CLOSE_LAKE_PYTHON=$(abspath $(PYTHON)) \
	  $(CARGO) test --workspace

clean:
	rm -rf $(VENV) lake target
