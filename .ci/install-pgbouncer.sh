#!/usr/bin/env bash
# Installs pgbouncer from Debian for the tests that run the sidecar behind a transaction pooler
# (test/pgbouncer/). The tests start their own pgbouncer on a free loopback port, so the
# packaged service must not keep running in the background.
set -euo pipefail
# Debian installs it in /usr/sbin, which a non-login shell's PATH may lack.
binary=$(command -v pgbouncer || true)
if [ -z "$binary" ] && [ -x /usr/sbin/pgbouncer ]; then binary=/usr/sbin/pgbouncer; fi
if [ -n "$binary" ]; then
  echo "pgbouncer already installed: $("$binary" --version 2>&1 | head -n1)"
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
apt-get install -y --no-install-recommends pgbouncer
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pgbouncer 2>/dev/null; then
  systemctl stop pgbouncer || true
  systemctl disable pgbouncer || true
fi
echo "installed $(/usr/sbin/pgbouncer --version 2>&1 | head -n1)"
