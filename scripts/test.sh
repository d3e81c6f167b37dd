#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then type-checks and runs
# every vitest project (unit, then lab/workflow/e2e against one real Temporal dev server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit -p .
npx vitest run "$@"
