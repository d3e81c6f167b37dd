#!/usr/bin/env bash
# Prints the path of the Temporal CLI 1.5.1 (dev server: Temporal Server 1.29.1, Web UI 2.42.1),
# building it with `go install` into a cache outside the repository on first use and reusing it after.
# The CLI is built, not downloaded: prebuilt release binaries are not reachable from every machine.
set -euo pipefail
VERSION=1.5.1
CACHE="${HVFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hvflow}"
BIN="$CACHE/temporal-$VERSION/temporal"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "$BIN"; exit 0
fi
mkdir -p "$CACHE/temporal-$VERSION"
GO="$(bash "$(dirname "$0")/ensure-go.sh")"
echo "building Temporal CLI $VERSION into $CACHE (first run only, takes a few minutes)..." >&2
# Newer CLI tags carry a `replace` directive that `go install pkg@version` refuses; 1.5.1 does not.
CGO_ENABLED=0 GOBIN="$CACHE/temporal-$VERSION" "$GO" install \
  -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$VERSION" \
  "github.com/temporalio/cli/cmd/temporal@v$VERSION" >&2
echo "$BIN"
