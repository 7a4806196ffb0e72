#!/usr/bin/env bash
# Everything a real node needs, on a host that can run one (Linux, root, overlay and FUSE in the
# kernel): runc, the CNI loopback plugin, busybox, fuse3, buildah and debootstrap from the
# distribution (apt-get, only when one is missing), then containerd v2 built from the Go module
# proxy (build.sh), the Debian base image and the manager's and democache's images (image.sh),
# all cached. On any other host it does nothing: the test run says, once, what the
# host lacks and runs everything else.
#
# Usage: setup.sh PYTHON   (the project's virtual environment's python, for the host checks)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${1:?usage: setup.sh PYTHON}

limits=$("$python" -c 'from fluidpy.testing.realnode import host_limitations; print("; ".join(host_limitations()))')
if [ -n "$limits" ]; then
  exit 0  # pytest reports it (tests/conftest.py), so `make test` says it exactly once
fi

# command -> Debian package
declare -A packages=(
  [runc]=runc
  [/usr/lib/cni/loopback]=containernetworking-plugins
  [busybox]=busybox-static
  [fusermount3]=fuse3
  [buildah]=buildah
  [debootstrap]=debootstrap
)
missing=()
for needed in "${!packages[@]}"; do
  if [[ $needed == /* ]]; then [ -e "$needed" ] || missing+=("${packages[$needed]}")
  else command -v "$needed" >/dev/null 2>&1 || missing+=("${packages[$needed]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || {
    echo "[realnode] ERROR: install ${missing[*]} (Debian package names) with your package manager" >&2
    exit 1
  }
  echo "[realnode] installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$here/build.sh" >/dev/null
# The images tests/realnode and `make dev REAL_NODE=1` run, built here so that no test spends its
# time limit on them (each is cached on its inputs: a later run takes seconds).
repo=$(cd "$here/../.." && pwd)
"$here/image.sh" "$python" >/dev/null
"$here/image.sh" "$python" "$repo/examples/democache" localhost/democache:dev >/dev/null
