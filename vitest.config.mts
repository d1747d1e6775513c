import { defineConfig } from 'vitest/config';

// Tests share one dev server and one time-skipping server (started in global setup), so
// files run one at a time in a forked process each.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // After each file, what its harnesses left running is terminated (test/support/leftovers.ts).
    setupFiles: ['test/setup-file.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
