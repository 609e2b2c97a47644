#!/usr/bin/env bash
# Microsoft's own Python SDKs (Graph v1.0 and beta, azure-identity, MSAL) and pytest from PyPI, in a
# virtual environment cached under .cache/, for the tests that drive the lab with them (tests/sdk.rs).
# Prints the Python to run the suite with (`python -m pytest tests/sdk`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
msgraph="1.65.0"
msgraph_beta="1.66.0"
azure_identity="1.27.0"
msal="1.39.0"
pytest="9.2.0"
# msgraph-core imports `deprecated` in its batch module without declaring it (a Microsoft SDK bug:
# https://github.com/microsoftgraph/msgraph-sdk-python-core/issues/1030), so it is installed here.
deprecated="1.3.1"
tag="msgraph-$msgraph-beta-$msgraph_beta-identity-$azure_identity-msal-$msal-pytest-$pytest-deprecated-$deprecated"
venv="${TENANTCTL_CACHE:-$here/../../.cache}/graph-sdks/$tag"
if [[ ! -x "$venv/bin/python" ]] ||
  ! "$venv/bin/python" -c "import msgraph, msgraph_beta, azure.identity, msal, pytest, msgraph_core.requests.batch_request_content" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "msgraph-sdk==$msgraph" "msgraph-beta-sdk==$msgraph_beta" "azure-identity==$azure_identity" \
    "msal==$msal" "pytest==$pytest" "Deprecated==$deprecated" >&2
fi
echo "$venv/bin/python"
