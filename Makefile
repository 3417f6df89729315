# Everything a fresh machine needs goes through these targets; .ci/run calls `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run poll test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default: SQLite under ./data, config/watcher.yaml.
run: install
	$(BIN)/watcher seed
	$(BIN)/watcher run

# One poll cycle and the resulting article list, without the daemon.
poll: install
	$(BIN)/watcher seed
	$(BIN)/watcher poll
	$(BIN)/watcher articles

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
