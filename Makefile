# Two commands set up a fresh machine: `make demo` and `make test`. Both create .venv themselves.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: venv test test-unit test-integration test-e2e test-fast test-slow lint protos up demo clean k8s-tools k8s-lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first, or pip resolves a multi-GB CUDA build for sentence-transformers.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[cpu,dev]'
	touch $(STAMP)

venv: $(STAMP)

# Test tiers: tests/conftest.py marks every test by its directory (unit: tests/unit and tests/k8s, no servers;
# integration: real gRPC servers and databases; e2e: through GraphQL); `slow` marks the long fault, fuzz and
# soak runs. `make test` runs them all, as CI does.
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

test: $(STAMP)
	$(PYTEST)

test-unit test-integration test-e2e test-slow: test-%: $(STAMP)
	$(PYTEST) -m $*

test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

lint: $(STAMP) k8s-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/buf lint
	# Contracts only grow: no breaking change against main (FILE rules; add fields, never renumber).
	$(BIN)/buf breaking --against '.git#branch=main'
	$(BIN)/python scripts/gen_protos.py --check

# Helm lint/render, kubernetes-validate, yamllint and checkov, offline. checkov pins many packages of its own,
# so the chart tools live in their own environment.
K8S_STAMP := .venv-k8s/.installed
$(K8S_STAMP):
	test -x .venv-k8s/bin/python || $(PY) -m venv .venv-k8s
	.venv-k8s/bin/pip install -q helm-python-sdk==0.2.2 kubernetes-validate yamllint checkov pyyaml pytest
	touch $(K8S_STAMP)

k8s-tools: $(K8S_STAMP)

k8s-lint: $(K8S_STAMP)
	.venv-k8s/bin/python scripts/k8s_check.py

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

up: $(STAMP)
	$(BIN)/python -m devkit up

demo: $(STAMP)
	$(BIN)/python -m devkit demo

clean:
	rm -rf $(VENV) .lmw .pytest_cache
