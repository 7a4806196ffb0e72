#!/usr/bin/env bash
# Builds an image from a Dockerfile with buildah, with no registry and no Docker engine (the
# manager's by default): FROM the Debian base image base_image.py makes (BASE_IMAGE build argument), into
# an OCI archive in the cache that a real node imports (`ctr images import`; pods then use
# imagePullPolicy: Never). Keyed on the Dockerfile, the sources and the base image; a finished
# archive is reused. Prints the archive's path on its last line.
#
# Usage: image.sh PYTHON [CONTEXT REFERENCE]   (PYTHON: the virtual environment's python;
# CONTEXT: a directory with a Dockerfile, default the repository; REFERENCE: the image's name,
# default localhost/fluidpy/controller-manager:dev)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
python=${1:?usage: image.sh PYTHON [CONTEXT REFERENCE]}
context=$(cd "${2:-$repo}" && pwd)
reference=${3:-localhost/fluidpy/controller-manager:dev}
cache=${FLUIDPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluidpy}/realnode

say() { printf '[image] %s\n' "$*" >&2; }
command -v buildah >/dev/null 2>&1 || { say "ERROR: buildah is missing; run make realnode"; exit 1; }

base=$("$python" "$repo/hack/realnode/base_image.py" | tail -n1)
base_ref=localhost/fluidpy-base:$(basename "$base" .tar)
# The key covers the files the build can see: the context less what .dockerignore leaves out
# (top-level names, the only kind the project's .dockerignore uses).
ignored=$( { sed -n 's#^\([^#!*][^*]*\)/\?$#^\1(/|$)#p' "$context/.dockerignore" 2>/dev/null || true; } | paste -sd"|")
key=$( { echo "$reference $base"; cd "$context"; git ls-files --cached --others --exclude-standard \
         | grep -Ev "${ignored:-^$}" | tr '\n' '\0' | xargs -0 sha256sum 2>/dev/null || true; } \
       | sha256sum | cut -c1-16)
name=$(printf '%s' "$reference" | tr -c 'A-Za-z0-9.-' '_')
out="$cache/image-$name-$key.tar"
if [ -f "$out" ]; then
  say "reusing $out"
  echo "$out"
  exit 0
fi

started=$(date +%s)
buildah=(buildah --root "$cache/buildah/storage" --runroot "$cache/buildah/run" --storage-driver overlay)
if ! "${buildah[@]}" inspect --type image "$base_ref" >/dev/null 2>&1; then
  id=$("${buildah[@]}" pull --quiet "oci-archive:$base")
  "${buildah[@]}" tag "$id" "$base_ref"
fi
# RUN steps trust what this host trusts (machines behind a TLS-inspecting proxy add its CA to the
# host's bundle); mounted for the build only, so the image keeps its own bundle.
trust=()
bundle=/etc/ssl/certs/ca-certificates.crt
if [ -f "$bundle" ]; then
  printf '[global]\ncert = %s\n' "$bundle" >"$cache/pip.conf"
  trust=(--volume "$bundle:$bundle:ro" --volume "$cache/pip.conf:/etc/pip.conf:ro")
fi
say "building $reference FROM $base_ref with buildah (pip downloads the dependencies)"
"${buildah[@]}" bud --quiet --isolation chroot --pull=never --layers --force-rm "${trust[@]}" \
  --build-arg "BASE_IMAGE=$base_ref" -t "$reference" -f "$context/Dockerfile" "$context" >&2
"${buildah[@]}" push --quiet "$reference" "oci-archive:$out.partial:$reference" >&2
mv "$out.partial" "$out"
# Keep one archive per image, and no layers only older builds used.
find "$cache" -maxdepth 1 -name "image-$name-*.tar" ! -path "$out" -delete
"${buildah[@]}" rmi --prune >/dev/null 2>&1 || true
say "built in $(( $(date +%s) - started )) s: $out ($(du -h "$out" | cut -f1))"
echo "$out"
