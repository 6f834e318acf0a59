# One command each for set-up, lint, test and the demo. CI runs .ci/run, which runs these.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV ?= uv
NPM_DIRS := chaincode chaincode/fabric-2.2 $(wildcard tests/node-client bench/node-client)

.PHONY: setup lint format test test-python test-chaincode up down status demo bench clean

# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set, every command would
# otherwise compile its ~1,500 modules again at each start (over a second).
setup:  ## Python environment from the lock file, chaincode dependencies and build
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --locked --compile-bytecode
	$(UV) run python src/fedledger/validator/codegen.py
	$(UV) run python -m compileall -q src
	@for dir in $(NPM_DIRS); do (cd $$dir && npm ci --no-audit --no-fund --loglevel=error) || exit 1; done
	cd chaincode && npm run build && npm run build:fabric-2.2

lint:  ## ruff, mypy, tsc + eslint, shellcheck
	$(UV) run ruff check src tests bench examples
	$(UV) run ruff format --check src tests bench examples
	$(UV) run mypy
	cd chaincode && npm run lint
	@if command -v shellcheck >/dev/null; then shellcheck .ci/run $(wildcard scripts/*.sh examples/*/*.sh); else echo "shellcheck not installed: skipped"; fi

format:
	$(UV) run ruff check --fix src tests bench examples
	$(UV) run ruff format src tests bench examples

test: test-chaincode test-python  ## every test: chaincode unit tests, then the Python suite

test-chaincode:  ## the chaincode's unit suite on Fabric 2.5's dependency set, then on 2.2's (AWS)
	cd chaincode && npm test && npm run test:fabric-2.2

# Two workers on two cores: most integration tests wait on block cuts, sleeps and round trips;
# with three, the load made timing-sensitive tests fail (docs/testing.md).
# One file per worker at a time (module fixtures start networks); PYTEST_WORKERS=0 runs serially;
# PYTEST_ARGS adds options (e.g. --junitxml=FILE for per-module times).
PYTEST_WORKERS ?= 2
test-python:  ## the Python suite, spread over pytest-xdist workers (docs/testing.md)
	$(UV) run pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30 $(PYTEST_ARGS)

up:  ## start the network (--ledger auto: Fabric when installed, else embedded)
	$(UV) run fedledger network up

down:
	$(UV) run fedledger network down

demo:  ## the main job: three organisations propose, validate, vote on and use one model
	$(UV) run fedledger demo

status:
	$(UV) run fedledger network status

bench:  ## every benchmark, each printing ratios against its baseline
	@for script in bench/bench_*.py; do echo "== $$script"; $(UV) run python $$script || exit 1; done

clean:
	rm -rf .fedledger chaincode/dist
