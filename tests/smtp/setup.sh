#!/usr/bin/env bash
# A real SMTP server for the notification tests: aiosmtpd from PyPI, in a virtual environment cached
# under .cache/. Prints the Python to run it with (`python -m aiosmtpd -n -l HOST:PORT ...`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="1.4.6"
venv="${TENANTCTL_CACHE:-$here/../../.cache}/smtp-server/aiosmtpd-$version"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$version" >&2
fi
echo "$venv/bin/python"
