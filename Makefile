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

# llama.cpp is compiled for x86-64 with AVX2 rather than for the build machine's own CPU: the native
# build of llama-cpp-python 0.3.36 dies with SIGSEGV in decode on an AVX-512/AMX Xeon (a prompt of 600
# tokens is enough), and an AVX2 build runs on every x86-64 machine since 2015. The wheel is built once
# per machine into WHEELS: pip's own cache keys a wheel by its sdist, not by these flags, and would hand
# back a native build.
LLAMA_VERSION ?= 0.3.36
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
WHEELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/newsrag/wheels/llama-$(LLAMA_VERSION)-avx2

.PHONY: install run test browser unit integration audit bench bench-1m retrieval-bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: its CPU wheel is local; a looser pin would pull GBs of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	@if [ "$$(uname -m)" = x86_64 ]; then \
		ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
			echo "building llama-cpp-python $(LLAMA_VERSION) for x86-64 AVX2 (about 5 minutes, once per machine)"; \
			CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel --quiet --no-cache-dir --no-deps \
				llama-cpp-python==$(LLAMA_VERSION) -w $(WHEELS); }; \
		$(BIN)/python -m pip install --quiet --no-deps $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl; \
	fi
	$(BIN)/python -m pip install --quiet -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	@touch $@

run: install
	$(BIN)/python app.py

# --durations: the suite ends by naming the 15 tests it spent longest on (setup and teardown included).
test:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	@$(MAKE) --no-print-directory browser
	$(BIN)/python -m pytest --durations=15

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "chromium could not be installed: the browser tests will be skipped"

unit:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	$(BIN)/python -m pytest -m unit --durations=15

integration:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	$(BIN)/python -m pytest -m integration --durations=15

# Known vulnerabilities in the installed dependencies; fails on those with a fix available (exit 1) and
# when pip-audit could not look the packages up (exit 2). Not part of `make test`: it needs the network.
audit:
	@$(MAKE) --no-print-directory install EXTRAS=dev
	$(BIN)/python scripts/audit.py $(AUDIT_ARGS)

# The performance benchmark (README, Benchmarks): about 18 minutes the first time (it builds a
# 100k-passage store, kept in ~/.cache/newsrag/bench), about 7 minutes after that.
bench: install
	$(BIN)/python -m eval.bench --out bench/latest.json

# The same with a 1M-passage tier (opt-in): building that store takes about 4-5 hours on 2 AVX2 cores
# (~65 passages/s); a build that is stopped resumes where it stopped when run again.
bench-1m: install
	$(BIN)/python -m eval.bench --sizes 1000,10000,100000,1000000 --out bench/latest-1m.json

retrieval-bench: install
	$(BIN)/python -m eval.retrieval_bench --chunk-tokens 64,96,128,160,256,384

clean:
	rm -rf $(VENV) .newsrag .pytest_cache
