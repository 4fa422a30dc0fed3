#!/usr/bin/env bash
# Installs prometheus and promtool from Debian for the alert-rule and dashboard-query tests.
# The tests run their own prometheus on a free loopback port, so the packaged service must not
# keep running in the background (it would hold :9090 and scrape nothing useful).
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  echo "promtool already installed: $(promtool --version 2>&1 | head -n1)"
  exit 0
fi
bash "$(dirname "$0")/apt-install-no-start.sh" prometheus
echo "installed $(promtool --version 2>&1 | head -n1)"
