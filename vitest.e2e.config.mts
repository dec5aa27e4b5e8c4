import { defineConfig } from 'vitest/config';

// The end-to-end suite: one stack on the local control plane, steps in order, one file at a time.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
