#!/usr/bin/env bash
# Builds helm from the Go module proxy: no other download source is reachable from CI,
# and building from source keeps the exact version pinned here.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
if [ -x .tools/bin/helm ]; then
  echo "helm already at .tools/bin/helm: $(.tools/bin/helm version --short)"
  exit 0
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
mkdir -p .tools/bin
# CGO off: a static binary that does not depend on the build machine's libc.
CGO_ENABLED=0 GOBIN="$PWD/.tools/bin" go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
echo "installed $(.tools/bin/helm version --short)"
