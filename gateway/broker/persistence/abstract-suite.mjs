/**
 * aedes-persistence's abstract test suite (node:test) against SqlitePersistence, one fresh state file per
 * test. Runs on the compiled module: `npm run build && node --test gateway/broker/persistence/abstract-suite.mjs`,
 * or with STORELOOP_SQLITE_PERSISTENCE_MODULE set to the URL of a build elsewhere (the vitest wrapper does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { pino } from 'pino';

const require = createRequire(import.meta.url);
const abstractPersistence = require('aedes-persistence/abstract.js');

const moduleUrl =
  process.env.STORELOOP_SQLITE_PERSISTENCE_MODULE ?? new URL('../../../dist/gateway/broker/persistence/sqlite-persistence.js', import.meta.url).href;
const { SqlitePersistence } = await import(moduleUrl);

const root = mkdtempSync(join(tmpdir(), 'storeloop-abstract-'));
after(() => rmSync(root, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let instances = 0;

abstractPersistence({
  test,
  // aedes 1.2 calls the promise API and passes the broker to setup(); no callbacks, no 'ready' event
  testAsync: true,
  persistence: () => new SqlitePersistence(join(root, String(++instances), 'broker.sqlite'), log),
});
