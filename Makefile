# Two commands for users: `make run` and `make test`. `make install` is the step both share.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?=
STAMP := $(VENV)/.installed-$(or $(EXTRAS),base)

# Models come from installed packages; nothing may be fetched from a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install run test browser unit integration audit bench retrieval-bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: its CPU wheel is local; a looser pin would pull GBs of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	@touch $@

run: install
	$(BIN)/python app.py

test:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	@$(MAKE) --no-print-directory browser
	$(BIN)/python -m pytest

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "chromium could not be installed: the browser tests will be skipped"

unit:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	$(BIN)/python -m pytest -m unit

integration:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	$(BIN)/python -m pytest -m integration

# Known vulnerabilities in the installed dependencies; fails on those with a fix available (exit 1) and
# when pip-audit could not look the packages up (exit 2). Not part of `make test`: it needs the network.
audit:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	$(BIN)/python scripts/audit.py $(AUDIT_ARGS)

# The performance benchmark (README, Benchmarks): about 18 minutes the first time (it builds a
# 100k-passage store, kept in ~/.cache/newsrag/bench), about 7 minutes after that.
bench: install
	$(BIN)/python -m eval.bench --out bench/latest.json

retrieval-bench: install
	$(BIN)/python -m eval.retrieval_bench --chunk-tokens 64,96,128,160,256,384

clean:
	rm -rf $(VENV) .newsrag .pytest_cache
