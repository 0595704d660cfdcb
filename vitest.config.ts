import { defineConfig } from 'vitest/config';

/**
 * Two projects, told apart by the file name alone:
 * - `unit`: every `*.test.ts` that is not `*.int.test.ts`. It starts no process and opens no socket
 *   or D-Bus connection (test/unit-setup.ts fails a test that tries), needs no global setup and no
 *   build. `npm run test:unit`.
 * - `integration`: every `*.int.test.ts`: real influxd, brokers over TCP and WebSocket, a private
 *   D-Bus, child processes (the gateway, the edge agent, tshark), the compiled tree, and the few pure
 *   checks that take seconds of CPU (the calibration's parameter recovery, the share of randomised MACs). Its global setup
 *   (test/global-setup.ts) finds the system programs and builds the sources once for the whole run.
 * `npm test` runs both.
 */
const EXCLUDE = ['node_modules/**', 'dist/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // real influxd and broker processes per file: keep the 2-core CI machine from thrashing
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...EXCLUDE, '**/*.int.test.ts'],
          setupFiles: ['test/unit-setup.ts'],
          testTimeout: 10_000,
          // one module cache per worker: importing zod, fastify and pino again for every file took
          // most of the project's time; unit tests keep no state between files (no globals, no sockets)
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: EXCLUDE,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
