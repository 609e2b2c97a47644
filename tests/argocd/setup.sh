#!/usr/bin/env bash
# A Lua runtime for testing the Argo CD health check: lupa from PyPI, in a virtual environment cached
# under .cache/. Prints the Python to run it with.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="2.6"
venv="${TENANTCTL_CACHE:-$here/../../.cache}/lua/lupa-$version"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import lupa" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "lupa==$version" >&2
fi
echo "$venv/bin/python"
