import { defineConfig } from 'vitest/config';

// The end-to-end suite: one stack on the local control plane, steps in order, one file at a time.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    // No vitest deadline (0 disables it): a pulumi up or a toolchain build on a slow machine must not fail the step. What
    // guards a hang is each wait's own bound on the cluster condition it polls for (waitFor, kubectl wait --timeout), which
    // names what never happened.
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
