#!/usr/bin/env bash
# Installs Python 3 with its venv module from Debian when missing, for clients/python/run-tests.sh.
set -euo pipefail
if python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
  echo "python already installed: $(python3 --version)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv
echo "installed $(python3 --version)"
