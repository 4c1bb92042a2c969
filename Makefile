# close-lake: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PYTHON  := $(VENV)/bin/python
CARGO   ?= cargo
RELEASE := target/release

.PHONY: help demo test bench lint unit build release venv faketime clean

help:
	@echo "make demo   build, start the bundled Close simulator, export it to ./lake, print what landed"
	@echo "make test   the whole suite: fmt, clippy, unit and integration tests (DuckDB in a local venv)"
	@echo "make bench  export simulated accounts of two sizes (release build): time and peak memory"

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

# Exports simulated accounts of 50k and 200k activities (plus a tenth as many leads and tasks) to a
# scratch lake and prints each run's summary, wall time and peak memory. The simulator paces every
# endpoint group at 100 requests a second, as Close's RateLimit headers do.
BENCH_SIZES ?= 50000 200000
bench: release
	@set -euo pipefail; \
	for n in $(BENCH_SIZES); do \
	  $(RELEASE)/close-sim --port 0 --activities $$n --leads $$((n / 10)) --tasks $$((n / 10)) > .bench-sim.log & sim=$$!; \
	  trap 'kill $$sim 2>/dev/null || true; rm -rf .bench-lake .bench-sim.log' EXIT; \
	  url=$$($(call address_in,.bench-sim.log)) || { echo "the simulator did not start"; exit 1; }; \
	  rm -rf .bench-lake; echo "== $$n activities, $$((n / 10)) leads, $$((n / 10)) tasks"; \
	  start=$$(date +%s.%N); \
	  if [ -x /usr/bin/time ]; then measure="/usr/bin/time -f %M"; else measure=""; fi; \
	  CLOSE_API_KEY=sim-key CLOSE_API_URL=$$url/api/v1 CLOSE_LAKE_LAG=0s CLOSE_LAKE_LOG=warn \
	    $$measure $(RELEASE)/close-lake export --dest .bench-lake --tables activities,leads,tasks 2> .bench-rss; \
	  echo "wall $$(echo "$$(date +%s.%N) - $$start" | bc) s, peak RSS $$(tail -n1 .bench-rss) KiB"; \
	  kill $$sim; wait $$sim 2>/dev/null || true; \
	done; rm -f .bench-rss

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
