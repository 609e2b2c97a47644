#!/usr/bin/env bash
# Helm, built from its Go module (the Go module proxy) into the cache folder once, for the test that
# lints, renders and applies the chart. Prints the helm binary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=v3.22.0
bin="${TENANTCTL_CACHE:-$here/../../.cache}/helm-$version"
if [[ ! -x "$bin/helm" ]]; then
  mkdir -p "$bin"
  GOBIN="$bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$version" >&2
fi
echo "$bin/helm"
