#!/usr/bin/env bash
# The main job on a fresh machine: installs what it needs, then runs the Temporal dev server
# (SQLite persistence, Web UI on localhost), the lab cluster and the hvflow worker (scripts/dev.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx scripts/dev.ts "$@"
