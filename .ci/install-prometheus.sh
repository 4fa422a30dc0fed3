#!/usr/bin/env bash
# Installs prometheus and promtool from Debian for the alert-rule and dashboard-query tests.
# The tests run their own prometheus on a free loopback port, so the packaged service must not
# keep running in the background (it would hold :9090 and scrape nothing useful).
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  echo "promtool already installed: $(promtool --version 2>&1 | head -n1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 tells Debian's maintainer scripts not to start services at install time.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update
apt-get install -y --no-install-recommends prometheus
# Belt and braces on systems where the service started anyway (e.g. systemd ignoring policy-rc.d).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
  systemctl disable prometheus || true
fi
echo "installed $(promtool --version 2>&1 | head -n1)"
