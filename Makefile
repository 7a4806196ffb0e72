# fluidpy developer entry points. `make dev` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The `make dev` cluster is named after this checkout, so two clones never share one (or its
# manager's state). Override: make dev DEV_CLUSTER=mine (and make clean-cluster DEV_CLUSTER=mine).
DEV_CLUSTER ?= fluidpy-dev-$(shell printf '%s' '$(CURDIR)' | cksum | awk '{ printf "%08x", $$1 }')

.PHONY: dev test check lint typecheck crds crds-check cluster-binaries realnode image-local unit integration e2e bench image clean-cluster

# A virtual environment with the project and its test tools, refreshed when pyproject.toml changes.
# setuptools tells every editable install, as a warning, that folders named like the package may
# shadow it; here they are the package, so that one notice is silenced.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or newer" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: fluidpy needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version)" >&2; exit 1; }
	@echo "[setup] installing Python dependencies into $(VENV), a minute or two (once, and again when pyproject.toml changes)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# The control plane binaries, built once into a cache outside the repository. build.sh prints
# one line when it reuses them, its progress while it builds.
cluster-binaries:
	@hack/localcluster/build.sh >/dev/null

# What the real node needs (tests/realnode, `fluidpy cluster create --real-node`): packages from
# the distribution, containerd built from the Go module proxy, and the images its tests run, all
# cached. Does nothing on a host that cannot run a real node (not Linux, not root, no overlay or
# FUSE); the test run says so once.
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
	@$(BIN)/python hack/dev_realnode.py --cluster $(DEV_CLUSTER)-real
else
dev: $(STAMP) cluster-binaries
	@$(BIN)/python hack/dev.py --cluster $(DEV_CLUSTER)
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

## image: the manager's container image, with docker, podman or buildah (whichever is installed)
IMAGE ?= fluidpy/controller-manager:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
image:
	@engine=$$(for e in docker podman buildah; do command -v $$e >/dev/null && { echo $$e; break; }; done); \
	if [ -z "$$engine" ]; then echo "error: no container engine found; install docker, podman or buildah" >&2; exit 1; fi; \
	if [ "$$engine" = buildah ]; then set -x; buildah bud -t $(IMAGE) .; else set -x; $$engine build -t $(IMAGE) .; fi

clean-cluster: $(STAMP)
	$(BIN)/fluidpy cluster delete --name $(DEV_CLUSTER)$(if $(REAL_NODE),-real)
