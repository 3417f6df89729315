# Everything a fresh machine needs goes through these targets; .ci/run calls `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser run poll test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@# An editable install leaves the package uncompiled, and with PYTHONDONTWRITEBYTECODE set (CI,
	@# containers) every start would compile it again (~0.1 s); `pip install .` compiles the same way.
	$(BIN)/python -m compileall -q watcher
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default: SQLite under ./data, config/watcher.yaml (the daemon imports
# the seeds at start).
run: install
	$(BIN)/watcher --log-level info run

# One poll cycle and the resulting article list, without the daemon.
poll: install
	$(BIN)/watcher seed
	$(BIN)/watcher poll
	$(BIN)/watcher articles

# Debian's Chromium and its driver for the browser test (tests/test_web_browser.py), installed when
# missing and we are root; otherwise that one test skips and says why.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "make browser: Chromium is missing and we are not root; the browser test will skip"; fi; \
	fi

test: install browser
	$(BIN)/pytest

# Every benchmark with modest defaults (about 10 minutes on 2 cores); the README's Performance section
# names the larger runs behind its tables. compare_peers installs urlwatch and rss2email under bench/out/.
bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/transport_bench.py --feeds 200 --runs 1
	$(BIN)/python bench/poll_bench.py --feeds 200
	$(BIN)/python bench/match_bench.py --articles 200 --subs 100,1000
	$(BIN)/python bench/dedupe_bench.py --sizes 10000 --queries 100
	$(BIN)/python bench/agreements_bench.py --rounds 8
	$(BIN)/python bench/compare_peers.py --feeds 100
	$(BIN)/python bench/scale.py --feeds 10000 --window 30 --daemons 1 2
	$(BIN)/python bench/soak.py --minutes 3 --feeds 200 --warmup 1

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
