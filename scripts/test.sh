#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then type-checks and runs
# every vitest project (unit, then lab/workflow/e2e against one real Temporal dev server).
# Style first (a second or two): Biome's lint and format check (biome.json), then the type-check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent lint
npx tsc --noEmit -p .
npx vitest run "$@"
