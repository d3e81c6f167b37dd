import { defineConfig } from 'vitest/config';

// `npm run record:histories`: the recorder against the lab and one real Temporal dev server (the
// suite's global setup); not part of the suite (vitest.config.mts does not include test/replay/).
export default defineConfig({
  test: {
    include: ['test/replay/record-histories.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-worker-slot.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
