#!/usr/bin/env bash
# Lints the example CI pipeline with actionlint (a Go tool from the Go module proxy), installed once
# into the cache folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
version=v1.7.12
bin="${TENANTCTL_CACHE:-$root/.cache}/actionlint-$version"
if [[ ! -x "$bin/actionlint" ]]; then
  mkdir -p "$bin"
  GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
fi
"$bin/actionlint" "$root/examples/ci/github-actions.yml"
echo "actionlint $version: examples/ci/github-actions.yml is valid"
