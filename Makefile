# The two commands a new user needs: `make run` and `make test`.
# Both create .venv with Python 3.12 and install the pinned dependencies on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run site test bench lint browser clean-venv

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "echelon needs Python >= 3.12; found " + sys.version.split()[0])'
	@echo "installing the pinned dependencies into $(VENV) (first time: a few minutes)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# pip's own progress (a line per package, a bar per download) on a terminal; quiet in a log (CI)
	@if [ -t 1 ]; then set -x; $(BIN)/python -m pip install --progress-bar=on -r requirements.lock; \
	else set -x; $(BIN)/python -m pip install --quiet -r requirements.lock; fi
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)
	@echo "installed; later runs reuse $(VENV) (make clean-venv starts over)"

run: $(STAMP)  ## compare dispatch policies on the default site (Daishan, synthetic), then under a stress load
	@# bytecode written even where PYTHONDONTWRITEBYTECODE is set (containers, CI): no process compiles sim/ again
	@$(BIN)/python -m compileall -q sim agents
	$(BIN)/echelon compare $(ARGS)
	$(BIN)/echelon compare incidents=stress 'run.policies=[echelon_135,echelon_overflow,echelon_open]' \
		run.baseline=echelon_135 run.replications=5 $(ARGS)

site: $(STAMP)  ## draw the default site map only
	$(BIN)/echelon site $(ARGS)

test: $(STAMP)  ## run the whole test suite, offline (tries `make browser` first: the report's browser test)
	-@$(MAKE) --no-print-directory browser
	$(BIN)/python -m pytest $(ARGS)

# Headless Chromium for tests/test_report_browser.py. A system program, not a Python package: installed with
# apt-get when missing and run as root (CI: .ci/run); otherwise the test is skipped and says why.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| command -v google-chrome >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium with apt-get (for the browser test of summary.html)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	else \
		echo "no chromium, and not root to install it: tests/test_report_browser.py will be skipped"; \
	fi

bench: $(STAMP)  ## benchmarks (routing, throughput, scale, memory) into results/bench/; rewrites README's tables
	$(BIN)/echelon bench readme=README.md $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check sim agents tests benchmarks

clean-venv:
	rm -rf $(VENV)
