#!/usr/bin/env bash
# Installs the Python client, with pytest and Django from PyPI, into a virtualenv and runs its
# tests against a real sidecar (`node src/main.ts`, embedded PostgreSQL unless DATABASE_URL is set).
# Needs Node 24 on PATH and `npm ci` done in the repository root. Arguments go to pytest.
# POST_OFFICE_PYTHON_VENV chooses the virtualenv (default .tools/venv-python-client), PYTHON the
# interpreter that creates it (default python3, 3.10 or newer).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${POST_OFFICE_PYTHON_VENV:-$root/.tools/venv-python-client}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "python client: $python is missing or older than 3.10 (set PYTHON, or run .ci/install-python.sh)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root/clients/python[test]"

cd "$root/clients/python"
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider "$@" || status=$?
# pytest exits 5 when it collected no tests: a broken test layout must not pass CI.
if [ "$status" -eq 5 ]; then
  echo "python client: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
