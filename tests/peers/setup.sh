#!/usr/bin/env bash
# IntuneCD, the Python Intune backup tool, from PyPI, unmodified, in a virtual environment cached
# under .cache/, for the test that backs up a lab tenant with it (tests/peers.rs,
# tests/peers/intunecd-backup.sh). Prints the venv's `IntuneCD-startbackup`; its Python is beside it
# (`$(dirname "$(bash setup.sh)")/python`).
#
# Only IntuneCD is pinned, as tests/sdk/setup.sh pins only the SDKs. IntuneCD imports `requests` and
# `cryptography` without declaring them; both come in through its declared `msal` (and `msrest`), so
# nothing has to be added for it to import and run, and the check below imports both to catch the day
# they stop coming.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
intunecd="2.6.0"
venv="${TENANTCTL_CACHE:-$here/../../.cache}/peers/intunecd-$intunecd"
if [[ ! -x "$venv/bin/IntuneCD-startbackup" ]] ||
  ! "$venv/bin/python" -c "import IntuneCD.run_backup, IntuneCD.backup_intune, requests, cryptography.fernet, msal" 2>/dev/null ||
  [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("IntuneCD"))' 2>/dev/null)" != "$intunecd" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "IntuneCD==$intunecd" >&2
fi
echo "$venv/bin/IntuneCD-startbackup"
