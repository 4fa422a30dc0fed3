#!/usr/bin/env bash
# Installs Debian packages whose service must not run in the background: the tests start their
# own (prometheus, pgbouncer) on free loopback ports. Usage: apt-install-no-start.sh PACKAGE...
set -euo pipefail
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
apt-get install -y --no-install-recommends "$@"
# Belt and braces on systems where a service started anyway (e.g. systemd ignoring policy-rc.d).
for service in "$@"; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
    systemctl disable "$service" || true
  fi
done
