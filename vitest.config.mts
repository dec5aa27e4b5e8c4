import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/tools/**'],
    // No per-test or per-hook deadline (0 disables it): a CRD schema compile or a cdk8s import takes as long as a busy
    // machine needs, and a test must not fail for being slow. A test that hangs is a bug the run shows by not ending.
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
  },
});
