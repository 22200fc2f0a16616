import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: emulator-backed files are I/O bound, so two workers are enough.
    maxWorkers: 2,
  },
});
