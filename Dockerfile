# The fluidpy controller manager. Build: docker build -t fluidpy/controller-manager:0.1.0 .
# Multi-stage: the build stage makes a wheel and installs it with its dependencies into a
# virtual environment; the runtime stage copies only that environment onto a slim Python base.

# BASE_IMAGE: any image with Python >= 3.11 and its venv module (default: the public slim image).
# Machines without a registry pass a locally built Debian with Python: make image-local.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
RUN python -m venv /opt/fluidpy
COPY pyproject.toml README.md ./
COPY fluidpy ./fluidpy
COPY api ./api
COPY engines ./engines
COPY controllers ./controllers
COPY cmd ./cmd
RUN /opt/fluidpy/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/fluidpy/bin/pip install --no-cache-dir .

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
EXPOSE 8080 8081
ENTRYPOINT ["fluidpy"]
CMD ["manager", "--leader-elect"]
