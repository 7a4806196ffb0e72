#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# the real node's kubelet in one multi-call binary, and kwok) from the Go module proxy, into a
# cache directory outside the repository keyed on every input of the build. A finished build is reused, so only the first run
# pays. Prints the directory of the binaries on its last line.
#
# Environment:
#   FLUIDPY_CACHE_DIR  where builds are kept (default: ${XDG_CACHE_HOME:-~/.cache}/fluidpy)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${FLUIDPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluidpy}/localcluster

say() { printf '[localcluster] %s\n' "$*" >&2; }
fail() { printf '\n[localcluster] ERROR: %s\n\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || fail "no Go toolchain on PATH. The local control plane is built \
from source and needs Go >= 1.26 (https://go.dev/doc/install, or your distribution's golang \
package). Install it, then run this again."
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly"
go_version=$(go env GOVERSION)
required=$(sed -n 's/^go \(.*\)/\1/p' "$here/controlplane/go.mod")
if [ "$(printf '%s\n%s\n' "go$required" "$go_version" | sort -V | head -n1)" != "go$required" ]; then
  fail "Go $go_version is too old: the control plane needs go$required or newer. Upgrade Go, then run this again."
fi

key=$( { echo "$go_version $(go env GOOS GOARCH)"; cat "$here/build.sh" \
         "$here"/controlplane/{go.mod,go.sum,main.go} "$here"/kwok/{go.mod,go.sum,stages/main.go}; } \
       | sha256sum | cut -c1-16)
k8s_version=$(sed -n 's#^[[:space:]]*k8s.io/kubernetes \(v[^ ]*\).*#\1#p' "$here/controlplane/go.mod" | head -n1)
out="$cache_root/$k8s_version-$key"

if [ -f "$out/complete" ]; then
  ln -sfn "$out" "$cache_root/current"
  say "reusing the control plane built in $out"
  echo "$out"
  exit 0
fi

mkdir -p "$out/bin"
started=$(date +%s)
say "building Kubernetes $k8s_version and kwok from the Go module proxy into $out"
say "the first build compiles about 4000 packages and takes 5-10 minutes on 2 cores (measured: 5 min 10 s to 6 min 46 s); later runs reuse it"

minor=${k8s_version#v1.}; minor=${minor%%.*}
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

build() {  # build NAME MODULE_DIR PACKAGE
  local name=$1 dir=$2 pkg=$3 log="$out/build-$1.log" t0
  t0=$(date +%s)
  say "[$name] downloading modules"
  (cd "$dir" && go mod download) >"$log" 2>&1 || { tail -n 30 "$log" >&2; fail "downloading the modules of $name failed (full log: $log)"; }
  say "[$name] compiling (progress: one dot per 25 packages)"
  if ! (cd "$dir" && go build -v -ldflags "$ldflags" -o "$out/bin/$name" "$pkg") 2>&1 \
      | tee -a "$log" | awk 'NR % 25 == 0 { printf "." > "/dev/stderr"; fflush("/dev/stderr") }'; then
    echo >&2
    tail -n 30 "$log" >&2
    fail "compiling $name failed (full log: $log)"
  fi
  echo >&2
  say "[$name] done in $(( $(date +%s) - t0 )) s, $(du -h "$out/bin/$name" | cut -f1)"
}

build controlplane "$here/controlplane" .
build kwok "$here/kwok" sigs.k8s.io/kwok/cmd/kwok
build kwok-stages "$here/kwok" ./stages
"$out/bin/kwok-stages" >"$out/kwok-stages.yaml" || fail "writing kwok's stage configuration failed"
for component in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
  ln -sfn controlplane "$out/bin/$component"
done
printf '{"kubernetes": "%s", "go": "%s", "seconds": %d}\n' \
  "$k8s_version" "$go_version" $(( $(date +%s) - started )) >"$out/complete"
ln -sfn "$out" "$cache_root/current"
say "built in $(( $(date +%s) - started )) s: $out"
echo "$out"
