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
bash "$(dirname "$0")/apt-install-no-start.sh" pgbouncer
echo "installed $(/usr/sbin/pgbouncer --version 2>&1 | head -n1)"
