#!/usr/bin/env bash
# Builds a real Kubernetes control plane for the operator's tests: kube-apiserver and kubectl from k8s.io/kubernetes
# (its staging modules pinned to their published twins in go.mod) and etcd from go.etcd.io/etcd/server.
# Binaries go to a cache folder keyed by go.sum, so a warm run only checks that they exist.
# Prints the folder holding the binaries.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${TENANTCTL_CACHE:-$here/../../.cache}/control-plane/$(sha256sum "$here/go.sum" | cut -c1-16)"
if [[ -x "$cache/kube-apiserver" && -x "$cache/etcd" && -x "$cache/kubectl" ]]; then
  echo "$cache"
  exit 0
fi
mkdir -p "$cache"
cd "$here"
version=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' go.mod)
minor=$(echo "$version" | cut -d. -f2)
ldflags="-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
ldflags="$ldflags -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$version"
GOFLAGS=-buildvcs=false go build -ldflags "$ldflags" -o "$cache/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
GOFLAGS=-buildvcs=false go build -o "$cache/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
GOFLAGS=-buildvcs=false go build -ldflags "$ldflags" -o "$cache/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl >&2
mv "$cache/kube-apiserver.tmp" "$cache/kube-apiserver"
mv "$cache/etcd.tmp" "$cache/etcd"
mv "$cache/kubectl.tmp" "$cache/kubectl"
echo "$cache"
