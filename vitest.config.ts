import { defineConfig } from 'vitest/config';

// tsx, which a few tests start processes with, would keep a compile cache in the temp folder: the
// tests leave nothing behind there.
process.env.TSX_DISABLE_CACHE ??= '1';

// Unit tests run in parallel; integration and e2e tests share emulators started once by the
// global setup (test/support/global-setup.ts), so they run in one fork, one file at a time.
//
// Timeouts are generous on purpose: they only bound a hang. Tests wait for conditions, never for
// wall-clock speed, so the suite passes on a small machine whose cores another process keeps busy
// (vitest's 5 s default failed unit tests that start workers or child processes there).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Tests of the CLI run the built bin: the build comes first when it is missing or stale.
          globalSetup: ['test/support/build-cli.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/build-cli.ts', 'test/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
