import { defineConfig } from 'vitest/config';

// Three projects. Pure unit tests run without any server. Everything under test/workflow, test/lab
// and test/e2e shares one real Temporal dev server and one workflow bundle, made once by the global
// setup (too slow to repeat per file); its files run in parallel, each vitest worker with its own
// loopback block and namespace (test/helpers/worker-slot.ts). The audit files run after all of
// them have finished (groupOrder): they read what every other integration test left on the shared
// server (histories, memos, search attributes) and check that no lab process is left.
export default defineConfig({
  test: {
    // CI has two cores; the integration files mostly wait on the lab and the server (see the README).
    maxWorkers: 4,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // A guard against hangs, not a speed check: on CI's two cores the unit files share the CPU with
          // four integration files, and a 5 s test (exact search, 300-command fan-out) took 25 s there.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/lab/**/*.test.ts', 'test/workflow/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/setup-worker-slot.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'audit',
          include: ['test/audit/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
        },
      },
    ],
  },
});
