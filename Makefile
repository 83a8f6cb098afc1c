# The two commands a new user needs: `make run` and `make test`.
# Both create .venv with Python 3.12 and install the pinned dependencies on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run site test bench lint clean-venv

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "echelon needs Python >= 3.12; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)  ## compare dispatch policies on the default site (Daishan, synthetic), then under a stress load
	$(BIN)/echelon compare $(ARGS)
	$(BIN)/echelon compare incidents=stress 'run.policies=[echelon_135,echelon_overflow,echelon_open]' \
		run.baseline=echelon_135 run.replications=5 $(ARGS)

site: $(STAMP)  ## draw the default site map only
	$(BIN)/echelon site $(ARGS)

test: $(STAMP)  ## run the whole test suite, offline
	$(BIN)/python -m pytest $(ARGS)

bench: $(STAMP)  ## benchmarks: routing vs networkx, model incidents per CPU-second
	$(BIN)/python benchmarks/bench_routing.py
	$(BIN)/python benchmarks/bench_model.py

lint: $(STAMP)
	$(BIN)/ruff check sim agents tests benchmarks

clean-venv:
	rm -rf $(VENV)
