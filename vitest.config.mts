import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Runs the audit files last: they read what every other integration test left on the shared
 * Temporal server (histories, memos, search attributes).
 */
class RunAuditLast extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => /\/test\/audit\//.test(f.moduleId);
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

// Two projects: pure unit tests run without any server; everything under
// test/workflow, test/lab and test/e2e shares one real Temporal dev server
// started once by the global setup (its start-up is too slow to repeat per file).
export default defineConfig({
  test: {
    sequence: { sequencer: RunAuditLast },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/lab/**/*.test.ts', 'test/workflow/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/audit/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // The lab binds fixed loopback addresses: integration files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
