# The few commands a contributor needs. Every target sets itself up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip
STAMP := $(VENV)/.installed
OUT ?= runs/quickstart

.PHONY: setup test test-fast demo lint format bench test-verl clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	PIP_CONSTRAINT=constraints.txt $(PIP) install --quiet --upgrade pip
	PIP_CONSTRAINT=constraints.txt $(PIP) install --quiet torch==2.13.0
	PIP_CONSTRAINT=constraints.txt $(PIP) install --quiet -e '.[train,eval,dev]'
	$(BIN)/python -c "import torch, sys; v = torch.__version__; sys.exit(0 if v.startswith('2.13.0') else 'wrong torch ' + v)"
	touch $(STAMP)

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/srpo quickstart --out $(OUT)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: setup
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# verl 0.9 pins transformers < 5.11, so it gets its own venv: the reward is tested there through verl's own
# reward loader. torch first (the pinned CPU wheel), then verl with its dependencies, then our package
# without dependencies plus the few light ones the reward needs.
VERL_VENV := .venv-verl
VERL_STAMP := $(VERL_VENV)/.installed

$(VERL_STAMP): pyproject.toml constraints.txt
	test -x $(VERL_VENV)/bin/python || $(PY) -m venv $(VERL_VENV)
	PIP_CONSTRAINT=constraints.txt $(VERL_VENV)/bin/pip install --quiet --upgrade pip
	PIP_CONSTRAINT=constraints.txt $(VERL_VENV)/bin/pip install --quiet torch==2.13.0
	PIP_CONSTRAINT=constraints.txt $(VERL_VENV)/bin/pip install --quiet verl==0.9.1
	PIP_CONSTRAINT=constraints.txt $(VERL_VENV)/bin/pip install --quiet --no-deps -e .
	PIP_CONSTRAINT=constraints.txt $(VERL_VENV)/bin/pip install --quiet 'math-verify==0.9.*' typer pyyaml pytest pytest-timeout
	touch $(VERL_STAMP)

test-verl: $(VERL_STAMP)
	HF_HUB_OFFLINE=1 $(VERL_VENV)/bin/python -m pytest -q tests/test_reward_verl.py tests/test_train_verl_config.py

# Each script measures one stage and rewrites its own section of bench/RESULTS.md.
bench: setup
	for b in reward eval curate train tiny_model quickstart; do OMP_NUM_THREADS=1 $(BIN)/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) $(VERL_VENV) runs .pytest_cache
