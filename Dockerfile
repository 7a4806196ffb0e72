# The fluidpy controller manager: make image (docker, podman or buildah), or
#   docker build -t fluidpy/controller-manager:0.1.0 .
# Multi-stage: the build stage installs the package with its runtime dependencies only (no
# extras: no pytest, no cryptography) into a virtual environment; the final stage copies that
# environment onto the same slim base.
#
# BASE_IMAGE is pinned to a full Python version so a rebuild gets the same interpreter; override
# it to build on a base of your own: docker build --build-arg BASE_IMAGE=my/python:3.12 .
ARG BASE_IMAGE=docker.io/library/python:3.12.8-slim-bookworm

FROM ${BASE_IMAGE} AS build
WORKDIR /src
RUN python -m venv /opt/fluidpy
COPY pyproject.toml README.md ./
COPY fluidpy ./fluidpy
COPY api ./api
COPY engines ./engines
COPY controllers ./controllers
COPY cmd ./cmd
RUN /opt/fluidpy/bin/pip install --no-cache-dir .

FROM ${BASE_IMAGE}
COPY --from=build /opt/fluidpy /opt/fluidpy
# A fixed non-root user (65532, distroless's "nonroot"), matching runAsUser in config/manager.
RUN groupadd --gid 65532 nonroot && useradd --uid 65532 --gid 65532 --no-create-home nonroot
USER 65532:65532
# Nothing is written at run time: no bytecode files, logs go to stdout. That keeps the image
# working with readOnlyRootFilesystem: true.
ENV PATH=/opt/fluidpy/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Metrics on 8080, probes on 8081. No HEALTHCHECK: Kubernetes ignores it; the Deployment in
# config/manager probes /healthz (liveness) and /readyz (readiness) on 8081 instead.
EXPOSE 8080 8081
ENTRYPOINT ["fluidpy"]
CMD ["manager", "--leader-elect"]
