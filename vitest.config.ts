import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/reliability/report.ts', './test/summary-reporter.ts'],
    setupFiles: ['./test/setup/loopback-only.ts'],
    // Tests must never reach a real metadata service or the network.
    env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
