#!/usr/bin/env bash
# Builds what a real node runs beside the kubelet (which is part of the control-plane binary):
# containerd v2 with its runc shim and ctr, from the Go module proxy, and the pod sandbox's pause
# program. Installed into a cache directory outside the repository keyed on every input; a
# finished build is reused. runc itself comes from the distribution (it needs cgo and libseccomp):
# `make realnode-packages`. Prints the directory of the binaries on its last line.
#
# Environment:
#   FLUIDPY_CACHE_DIR  where builds are kept (default: ${XDG_CACHE_HOME:-~/.cache}/fluidpy)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${FLUIDPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluidpy}/realnode

# containerd 2.x: kubelet 1.37 drops containerd 1.x, so the distribution's 1.6 would not last.
CONTAINERD_VERSION=v2.4.2
# Pure Go: the snapshotters that need cgo or kernel features we do not use are left out.
CONTAINERD_TAGS="no_btrfs no_devmapper no_zfs no_aufs"

say() { printf '[realnode] %s\n' "$*" >&2; }
fail() { printf '\n[realnode] ERROR: %s\n\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || fail "no Go toolchain on PATH; the real node's containerd is \
built from source and needs Go >= 1.26. Install it, then run this again."
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath"
go_version=$(go env GOVERSION)
key=$( { echo "$go_version $(go env GOOS GOARCH) $CONTAINERD_VERSION"; cat "$here/build.sh" \
         "$here"/pause/{go.mod,main.go}; } | sha256sum | cut -c1-16)
out="$cache_root/containerd-$CONTAINERD_VERSION-$key"
if [ -f "$out/complete" ]; then
  ln -sfn "$out" "$cache_root/current"
  say "reusing $out"
  echo "$out"
  exit 0
fi

mkdir -p "$out/bin"
started=$(date +%s)
log="$out/build.log"
say "building containerd $CONTAINERD_VERSION from the Go module proxy into $out (about 2 minutes)"
if ! GOBIN="$out/bin" go install -tags "$CONTAINERD_TAGS" -ldflags "-s -w" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  fail "building containerd failed (full log: $log)"
fi
(cd "$here/pause" && go build -ldflags "-s -w" -o "$out/bin/pause" .) >>"$log" 2>&1 \
  || { tail -n 30 "$log" >&2; fail "building pause failed (full log: $log)"; }
printf '{"containerd": "%s", "go": "%s", "seconds": %d}\n' \
  "$CONTAINERD_VERSION" "$go_version" $(( $(date +%s) - started )) >"$out/complete"
ln -sfn "$out" "$cache_root/current"
say "built in $(( $(date +%s) - started )) s: $out"
echo "$out"
