#!/usr/bin/env bash
# Points the control-plane module at another Kubernetes release, offline.
#
# k8s.io/kubernetes requires its staging modules at the placeholder v0.0.0 and resolves them with
# `replace ... => ./staging/...` lines that Go ignores in dependencies. We read those lines from the
# go.mod that the module proxy serves for the release, and replace each staging module with its
# published v0.X.Y tag. Nothing is fetched from anywhere but the module proxy.
#
# usage: hack/localcluster/bump-kubernetes.sh v1.36.3
set -euo pipefail
version=${1:?usage: $0 vMAJOR.MINOR.PATCH}
staging_version="v0.${version#v1.}"
cd "$(dirname "$0")/controlplane"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

upstream_mod=$(go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -n "$upstream_mod" ] || { echo "could not download k8s.io/kubernetes@${version}" >&2; exit 1; }

go mod edit -dropreplace=all 2>/dev/null || true
for module in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$upstream_mod"); do
  go mod edit -replace="${module}=${module}@${staging_version}"
done
go mod edit -require="k8s.io/kubernetes@${version}"
etcd_version=$(sed -n 's#^[[:space:]]*go.etcd.io/etcd/server/v3 \(v[^ ]*\).*#\1#p' "$upstream_mod")
go mod edit -require="go.etcd.io/etcd/server/v3@${etcd_version}"
go mod tidy

if go list -m all | grep -E '^k8s.io/.* v0\.0\.0$'; then
  echo "some k8s.io modules are still at v0.0.0: the replace list is incomplete" >&2
  exit 1
fi
echo "control plane now at Kubernetes ${version} (etcd ${etcd_version})"
