# fluidpy developer entry points. `make dev` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test check lint typecheck crds crds-check cluster-binaries realnode image-local unit integration e2e bench clean-cluster

# A virtual environment with the project and its test tools, refreshed when pyproject.toml changes.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or newer" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: fluidpy needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# The control plane binaries, built once into a cache outside the repository.
cluster-binaries:
	@hack/localcluster/build.sh >/dev/null

# What the real node needs (tests/realnode, `fluidpy cluster create --real-node`): packages from
# the distribution and containerd built from the Go module proxy. Does nothing on a host that
# cannot run a real node (not Linux, not root, no overlay or FUSE); the test run says so once.
realnode: $(STAMP)
	@hack/realnode/setup.sh $(BIN)/python

## image-local: the manager's image built with buildah FROM a local Debian base, no registry
## (an OCI archive in ~/.cache/fluidpy/realnode that a real node imports; prints its path)
image-local: $(STAMP) realnode
	@hack/realnode/image.sh $(BIN)/python

## dev: local control plane, CRDs, manager and samples, with the runtime coming up
## (REAL_NODE=1: on a real node, the manager as a pod and democache serving a file through FUSE)
ifdef REAL_NODE
dev: $(STAMP) cluster-binaries realnode
	$(BIN)/python hack/dev_realnode.py
else
dev: $(STAMP) cluster-binaries
	$(BIN)/python hack/dev.py
endif

## test: every check and every test (what CI runs)
test: $(STAMP) cluster-binaries realnode check
	$(BIN)/pytest tests

check: lint typecheck crds-check

## crds: regenerate config/crd from the models in api/
crds: $(STAMP)
	$(BIN)/python hack/gen_crds.py

crds-check: $(STAMP)
	$(BIN)/python hack/gen_crds.py --check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) cluster-binaries
	$(BIN)/pytest tests/integration

e2e: $(STAMP) cluster-binaries
	$(BIN)/pytest tests/e2e

bench: $(STAMP) cluster-binaries
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean-cluster: $(STAMP)
	$(BIN)/fluidpy cluster delete --name fluidpy-dev
