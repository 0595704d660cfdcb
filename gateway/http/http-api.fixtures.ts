/**
 * The gateway's HTTP API on real parts, for the route tests (test support: not in the build): a real
 * ledger, rejection log, dead-letter store (in memory), metrics registry, event log and sink set in a
 * temp dir, a real API token store there with one admin token. Requests go through fastify's inject():
 * no socket is opened; `inject` sends the admin token, `app.inject` nothing. Readiness answers as `ready`
 * says, so a test decides what the broker and InfluxDB checks report; InfluxQL queries are answered by
 * `influxQuery` when a test gives one, and refused otherwise.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance, FastifyPluginAsync, InjectOptions, LightMyRequestResponse } from 'fastify';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { createLogger } from '../../lib/logger.js';
import { ApiTokenStore } from '../auth/api-tokens.js';
import { ConsentRegistry } from '../consent/consent-registry.js';
import { CustomerErasure } from '../consent/customer-erasure.js';
import { CrmOutbox } from '../crm/crm-outbox.js';
import { CustomerTokenVault } from '../identity/customer-tokens.js';
import { MqttIdentityStore } from '../auth/mqtt-identities.js';
import { Ledger } from '../ingest/ledger.js';
import { RejectionLog } from '../ingest/rejection.js';
import { StoreDirectory } from '../ingest/store-directory.js';
import { LiveState } from '../live/live-state.js';
import { EventLog } from '../log/event-log.js';
import { GatewayMetrics } from '../metrics.js';
import { DeadLetterStore } from '../sinks/dead-letters.js';
import { SinkSet } from '../sinks/sink-set.js';
import type { HttpDeps } from './deps.js';
import { buildHttpServer } from './http-server.js';

export interface TestApi {
  app: FastifyInstance;
  deps: HttpDeps;
  eventLog: EventLog;
  sinks: SinkSet;
  ledger: Ledger;
  rejections: RejectionLog;
  deadLetters: DeadLetterStore;
  tokens: ApiTokenStore;
  /** A token with the `admin` scope. */
  adminToken: string;
  /** app.inject() with the admin token. */
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** What the readiness checks answer: true, false, or a rejected promise (a ping that failed). */
  ready: { broker: boolean; influx: boolean | 'rejects' | 'throws' };
  close(): Promise<void>;
}

export async function buildTestApi(
  options: {
    quotaBytes?: number;
    pages?: FastifyPluginAsync[];
    http?: Record<string, unknown>;
    influxQuery?: HttpDeps['influxQuery'];
    /** The config's `privacy` section (consent receipts). */
    privacy?: Record<string, unknown>;
  } = {},
): Promise<TestApi> {
  const log = createLogger('silent');
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-http-'));
  const config = parseConfig({ stores: [DEMO_STORE], state: { dir }, http: options.http ?? {}, privacy: options.privacy ?? {} });
  const tokens = new ApiTokenStore({ file: join(dir, 'api-tokens.sqlite'), keyFile: join(dir, 'secret.key') });
  tokens.open();
  const adminToken = tokens.add({ name: 'test-admin', scopes: ['admin'] }).token;
  const mqttIdentities = new MqttIdentityStore(join(dir, 'mqtt-identities.sqlite'), join(dir, 'secret.key'));
  mqttIdentities.open();
  const consents = new ConsentRegistry(join(dir, 'consent.sqlite'));
  consents.open();
  const customerTokens = new CustomerTokenVault(join(dir, 'identity.sqlite'));
  customerTokens.open();
  const crmOutbox = new CrmOutbox(join(dir, 'crm-outbox.sqlite'));
  crmOutbox.open();
  const metrics = new GatewayMetrics({ processMetrics: false });
  const eventLog = new EventLog({
    dir: join(dir, 'log'),
    quotaBytes: options.quotaBytes ?? 1024 ** 2,
    segmentBytes: 4096,
    replayRetentionMs: 3_600_000,
    backpressureHoldMs: 0,
    log,
  });
  await eventLog.open();
  const sinks = new SinkSet(eventLog, { checkpointDir: join(dir, 'log', 'sinks'), log, registry: metrics.registry });
  const ready: TestApi['ready'] = { broker: true, influx: true };
  const deps: HttpDeps = {
    config,
    directory: StoreDirectory.fromConfig(config),
    rejections: new RejectionLog(config.ingest.rejectionsKept),
    metrics,
    live: new LiveState(config.stores),
    readiness: [
      { name: 'broker', check: () => ready.broker },
      {
        name: 'influx',
        check: () => {
          if (ready.influx === 'throws') throw new Error('ping could not start');
          return ready.influx === 'rejects' ? Promise.reject(new Error('ping failed')) : Promise.resolve(ready.influx);
        },
      },
    ],
    ledger: new Ledger(metrics.registry),
    deadLetters: new DeadLetterStore(join(dir, 'dead-letters.jsonl')),
    eventLog,
    sinks,
    version: '9.8.7',
    tokens,
    mqttIdentities,
    consents,
    customerTokens,
    // no CRM destination in route tests (test/crm-webhook.int.test.ts has them)
    crm: { deliveries: [], outbox: crmOutbox, replayDeadLetters: () => 0 },
    erasure: new CustomerErasure({
      customers: customerTokens,
      consents,
      crm: { deliveries: [], outbox: crmOutbox },
      keyFile: join(dir, 'secret.key'),
    }),
    // no InfluxDB in route tests: a test that reads metrics brings its own answers
    influxQuery: options.influxQuery ?? { query: () => Promise.reject(new Error('no InfluxDB in this test (buildTestApi influxQuery)')) },
  };
  /** Closes the stores and the log and removes the temp dir (after the app, once there is one). */
  const closeParts = async () => {
    tokens.close();
    mqttIdentities.close();
    consents.close();
    customerTokens.close();
    crmOutbox.close();
    await sinks.stop();
    await eventLog.close();
    await rm(dir, { recursive: true, force: true });
  };
  let app: FastifyInstance;
  try {
    app = await buildHttpServer(deps, log, options.pages);
  } catch (err) {
    // a test that expects the build to fail leaves nothing open behind
    await closeParts();
    throw err;
  }
  return {
    app,
    deps,
    eventLog,
    sinks,
    ledger: deps.ledger,
    rejections: deps.rejections,
    deadLetters: deps.deadLetters,
    tokens,
    adminToken,
    inject: (request) => app.inject({ ...request, headers: { authorization: `Bearer ${adminToken}`, ...request.headers } }),
    ready,
    close: async () => {
      await app.close();
      await closeParts();
    },
  };
}
