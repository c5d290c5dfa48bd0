# Two commands set up a fresh machine: `make demo` and `make test`. Both create .venv themselves, and build the
# portal (web/, Node 20+) from its lockfile when its sources changed.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: venv test test-unit test-integration test-e2e test-fast test-slow test-web lint web web-schema web-lint \
	screenshots protos up demo clean k8s-tools k8s-lint images

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first, or pip resolves a multi-GB CUDA build for sentence-transformers.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[cpu,dev]'
	touch $(STAMP)

venv: $(STAMP)

# The portal: node_modules from the committed lockfile (browsers are never downloaded: the tests drive the
# system's Chromium), then a build whenever a source, the schema or the lockfile changed.
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/graphiql.html \
	web/vite.config.ts web/tsconfig.json web/schema.graphql

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

web/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run --silent build

web: web/dist/index.html

# After a change to the BFF's GraphQL schema: export it and regenerate the portal's typed documents.
web-schema: $(STAMP) $(WEB_STAMP)
	$(BIN)/python scripts/gen_web_schema.py
	cd web && npm run --silent codegen

web-lint: $(STAMP) $(WEB_STAMP)
	$(BIN)/python scripts/gen_web_schema.py --check
	cd web && npm run --silent codegen:check && npm run --silent typecheck && npm run --silent check-strings

# Test tiers: tests/conftest.py marks every test by its directory (unit: tests/unit and tests/k8s, no servers;
# integration: real gRPC servers and databases; e2e: through GraphQL); `slow` marks the long fault, fuzz and
# soak runs. `make test` runs them all, as CI does: the Python suite, then the browser suite (Playwright
# against the real mesh); it fails when either fails.
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

test: $(STAMP) web
	status=0; $(PYTEST) || status=$$?; \
	$(MAKE) --no-print-directory test-web || status=$$?; exit $$status

test-unit test-integration test-e2e test-slow: test-%: $(STAMP)
	$(PYTEST) -m $*

test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

test-web: $(STAMP) web
	cd web && npx playwright test --project=portal

# The README's screenshots (docs/screenshots/), taken from a mesh started for the purpose.
screenshots: $(STAMP) web
	cd web && npx playwright test --project=screenshots

lint: $(STAMP) k8s-lint web-lint
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

# The OCI images of the CPU stack (docker/Dockerfile.*), built with podman or docker, whichever is installed;
# their sizes are printed at the end. Build arguments come from these variables when they are set (the
# Dockerfiles explain them): BASE_IMAGE, NODE_IMAGE, TORCH_INDEX_URL, PORTAL_SOURCE (prebuilt: web/dist from
# `make web`); TORCH_WHEELS=<folder with the torch CPU wheel> becomes the torch-wheels build context and
# CA_BUNDLE=<PEM file> the ca_bundle build secret. scripts/containers_check.py sets them where no registry is
# reachable (a local Debian base, see k8s/README.md).
CONTAINER_ENGINE ?= $(shell command -v podman || command -v docker)
IMAGE_PREFIX ?= learning-middleware/
IMAGE_TAG ?= 0.1.0
CPU_IMAGES := learner instructor orchestrator sme-cpu bff
comma := ,
IMAGE_BUILD_FLAGS = $(if $(filter %podman,$(CONTAINER_ENGINE)),--format docker) \
	$(foreach v,BASE_IMAGE NODE_IMAGE TORCH_INDEX_URL PORTAL_SOURCE,$(if $($(v)),--build-arg $(v)=$($(v)))) \
	$(if $(TORCH_WHEELS),--build-context torch-wheels=$(TORCH_WHEELS)) \
	$(if $(CA_BUNDLE),--secret id=ca_bundle$(comma)src=$(CA_BUNDLE))

images: $(if $(filter prebuilt,$(PORTAL_SOURCE)),web)
	@test -n "$(CONTAINER_ENGINE)" || { echo "make images needs podman or docker" >&2; exit 1; }
	set -e; for img in $(CPU_IMAGES); do \
	  $(CONTAINER_ENGINE) build $(IMAGE_BUILD_FLAGS) -f docker/Dockerfile.$$img -t $(IMAGE_PREFIX)$$img:$(IMAGE_TAG) .; \
	done
	@for img in $(CPU_IMAGES); do \
	  size=$$($(CONTAINER_ENGINE) image inspect --format '{{.Size}}' $(IMAGE_PREFIX)$$img:$(IMAGE_TAG)); \
	  printf 'image %-40s %6s MB\n' $(IMAGE_PREFIX)$$img:$(IMAGE_TAG) $$((size / 1000000)); \
	done

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

up: $(STAMP) web
	@echo "The portal: http://127.0.0.1:$${BFF_PORT:-8000}/ (once the services below are ready)"
	$(BIN)/python -m devkit up

demo: $(STAMP) web
	$(BIN)/python -m devkit demo

clean:
	rm -rf $(VENV) .lmw .pytest_cache web/node_modules web/dist web/test-results
