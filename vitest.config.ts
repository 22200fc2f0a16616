import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: emulator-backed files are I/O bound, so two workers are enough.
    maxWorkers: 2,
    // The SDK's notice that its 2027 releases need Node 22 is noise in test output (engines: >= 20).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
