#!/usr/bin/env bash
# Says in one line which tool the tests need and this machine lacks, before anything is built.
set -euo pipefail
missing=()
for tool in cargo go openssl curl python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "missing: ${missing[*]} — the tests need Rust (cargo), Go (the Kubernetes control plane and actionlint are built from the Go module proxy), openssl and curl (the control plane's certificates and readiness), and python3 (the SMTP server, Microsoft's SDKs); see README.md, Run the tests" >&2
  exit 1
fi
echo "prerequisites: cargo, go, openssl, curl, python3 found"
