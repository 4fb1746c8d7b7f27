# Two commands do all the set-up: `make run` (install, build the index, serve the chat) and `make test`.
PYTHON ?= python3
PORT ?= 7860
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test build clean-index

$(VENV)/.stamp-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-run
	$(BIN)/pip install -q -e '.[test]'
	touch $@

build: $(VENV)/.stamp-run
	$(BIN)/letterqa build

run: build
	$(BIN)/letterqa serve --port $(PORT)

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest

clean-index:
	rm -rf index/build-* index/CURRENT index/.lock
