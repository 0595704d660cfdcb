/**
 * `storeloop demo`: a local InfluxDB (Debian's influxd on a free port with its own data dir, unless
 * STORELOOP_INFLUX_URL points at one), the gateway, and the simulator: the gateway's pages at once,
 * while days of recent history are published as fast as they go, oldest first (GET /api/v1/live says
 * how far, `history`), then the live store in real time. Arrivals follow the store's opening hours.
 * Ctrl-C stops everything and leaves no process behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '../../config/index.js';
import type { NewIdentity } from '../../gateway/auth/mqtt-identities.js';
import { Gateway } from '../../gateway/gateway.js';
import { HistoryStatus } from '../../gateway/live/history-status.js';
import { formatDuration } from '../../lib/duration.js';
import { limitHeapGrowth } from '../../lib/heap-growth.js';
import { createLogger } from '../../lib/logger.js';
import {
  DEFAULT_SIMULATION_OPTIONS,
  loadScenario,
  parseDuration,
  resolveSimulationOptions,
  runSimulation,
  runSimulationInWorker,
  type InfluxOutageControl,
} from '../../simulators/index.js';
import { ensureInfluxd } from '../../devtools/ensure-program.js';
import { freePort } from '../../devtools/free-port.js';
import { startLocalInfluxd, type LocalInfluxd } from '../../devtools/local-influxd.js';
import { waitForSignal } from './gateway-command.js';
import { commandOutageControl } from './simulate-command.js';

export interface DemoCommandOptions {
  config?: string;
  backfill: string;
  visitorsPerHour: string;
  seed: string;
  /** Stop by itself after this long (for scripted checks); default: run until Ctrl-C. */
  stopAfter?: string;
  /** A YAML scenario played in the live store (docs/simulator.md#scenarios). */
  scenario?: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** A backfill catches up with the clock until less than this is left: the live store starts where history ends. */
const CATCH_UP_WITHIN_MS = 5_000;
/** How often the backfill says how far it has got. */
const PROGRESS_LINE_EVERY_MS = 60_000;
/** Events older than the backfill must still be accepted: the gateway's `ingest.maxPastSeconds` covers it with this to spare. */
const MAX_PAST_MARGIN_S = 3600;

async function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The preferred port when free, else one the OS picks. */
async function portOr(preferred: number, host: string): Promise<number> {
  return (await isPortFree(preferred, host)) ? preferred : freePort(host);
}

/** A login for the demo: the identity is added, or gets a new secret when a kept state dir has it already. */
function demoLogin(gateway: Gateway, spec: NewIdentity): { username: string; password: string } {
  const made = gateway.mqttIdentities.issue(spec);
  return { username: made.identity.name, password: made.secret ?? '' };
}

/** The HTTP API needs a token: the demo makes an analyst one (for a day) and prints a login link and how to use it. */
function demoApiLogin(gateway: Gateway, urls: ReturnType<Gateway['urls']>, stateDir: string, storeId: string): string[] {
  const { token, info } = gateway.apiTokens.add({
    name: `demo-analyst-${randomBytes(3).toString('hex')}`,
    scopes: ['analyst'],
    expiresAt: new Date(Date.now() + 24 * 3_600_000),
  });
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 24 * 3_600_000).toISOString().slice(0, 10);
  return [
    `  dashboards        ${urls.live}#token=${token}`,
    `                    (logs in as ${info.name}; or open ${urls.live} and paste the token)`,
    `  API token         ${token}   (analyst, for a day)`,
    `  HTTP API          curl -H "Authorization: Bearer ${token}" ${urls.http}/api/v1/stores`,
    `  visits per hour   curl -H "Authorization: Bearer ${token}" "${urls.http}/api/v1/stores/${storeId}/metrics?metric=visits&from=${today}&to=${tomorrow}&interval=1h"`,
    `                    (experience engine: a visit is final about 20 min after it ends; docs/analytics.md, docs/metrics-api.md)`,
    `  footfall per hour curl -H "Authorization: Bearer ${token}" "${urls.http}/api/v1/stores/${storeId}/metrics?metric=footfall&from=${today}&to=${tomorrow}&interval=1h"`,
    `                    (method fused: people who came in, the door counter corrected by its audit, with a 95 % range)`,
    `  operator token    STORELOOP_STATE_DIR=${stateDir} storeloop tokens add --name me --scope operator`,
    `                    (for ${urls.metrics}, ${urls.http}/api/v1/rejections, storeloop sinks)`,
  ];
}

/** The demo's own influxd, stopped and started again on the same port and data dir for a scenario's InfluxDB outages. */
function ownInfluxOutages(current: () => LocalInfluxd, replace: (next: LocalInfluxd) => void, dataDir: string): InfluxOutageControl {
  return async (_event, phase) => {
    if (phase === 'stop') {
      say('scenario: stopping the local InfluxDB (outage)');
      await current().stop();
      return;
    }
    replace(await startLocalInfluxd({ dataDir, port: current().port }));
    say('scenario: the local InfluxDB is back');
  };
}

export async function runDemoCommand(options: DemoCommandOptions): Promise<void> {
  limitHeapGrowth(); // the demo's gateway runs in this process: the same memory setting as storeloop gateway
  const env: Record<string, string | undefined> = { ...process.env };
  const scenario = options.scenario !== undefined ? loadScenario(options.scenario) : undefined;
  let influxd: LocalInfluxd | undefined;
  let dataDir: string | undefined;
  let influxOutage: InfluxOutageControl | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  try {
    if (!env.STORELOOP_INFLUX_URL) {
      ensureInfluxd(say);
      dataDir = await mkdtemp(join(tmpdir(), 'storeloop-demo-'));
      say(`starting a local InfluxDB (influxd, data in ${dataDir})…`);
      influxd = await startLocalInfluxd({ dataDir });
      env.STORELOOP_INFLUX_URL = influxd.url;
      env.STORELOOP_INFLUX_API = 'v1';
      const dir = dataDir;
      cleanups.push(async () => {
        await influxd?.stop();
        await rm(dir, { recursive: true, force: true });
      });
      const started = influxd;
      influxOutage = ownInfluxOutages(
        () => influxd ?? started,
        (next) => (influxd = next),
        dir,
      );
    } else {
      // an InfluxDB the demo did not start: the scenario's own commands, as under storeloop simulate
      influxOutage = commandOutageControl(scenario, say);
    }
    const host = '127.0.0.1';
    env.STORELOOP_MQTT_HOST ??= host;
    env.STORELOOP_HTTP_HOST ??= host;
    env.STORELOOP_MQTT_PORT ??= String(await portOr(1883, host));
    env.STORELOOP_WS_PORT ??= String(await portOr(8083, host));
    env.STORELOOP_HTTP_PORT ??= String(await portOr(8080, host));
    env.STORELOOP_LOG_LEVEL ??= 'warn';
    if (!env.STORELOOP_STATE_DIR) {
      // the demo's event log, message index and broker state are as throwaway as its InfluxDB
      const stateDir = await mkdtemp(join(tmpdir(), 'storeloop-demo-state-'));
      env.STORELOOP_STATE_DIR = stateDir;
      cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    }
    const loaded = loadConfig(options.config, env);
    const backfillMs = parseDuration(options.backfill);
    // the oldest history must not be refused as too old (ingest.maxPastSeconds, 7 days by default)
    const maxPastSeconds = Math.max(loaded.ingest.maxPastSeconds, Math.ceil(backfillMs / 1000) + MAX_PAST_MARGIN_S);
    const config = { ...loaded, ingest: { ...loaded.ingest, maxPastSeconds } };
    const history = backfillMs > 0 ? new HistoryStatus() : undefined;
    const log = createLogger(config.log.level);
    const gateway = new Gateway(config, { log, ...(history ? { history } : {}) });
    await gateway.start();
    cleanups.unshift(() => gateway.stop());
    const urls = gateway.urls();
    const store = config.stores[0];
    if (!store) throw new Error('the config has no store');
    say('');
    say('storeloop demo is running:');
    for (const line of demoApiLogin(gateway, urls, config.state.dir, store.id)) say(line);
    say(`  OpenAPI UI        ${urls.docs}`);
    say(`  MQTT              ${urls.mqtt}   WebSocket ${urls.ws ?? 'off'}`);
    if (backfillMs > 0) say(`  history           the last ${options.backfill} of store life, filling in now, oldest first (GET /api/v1/live: history.reached)`);
    say(`  InfluxDB          ${config.influx.url} (${config.influx.api === 'v1' ? `database ${config.influx.database}` : `bucket ${config.influx.bucket}`})`);
    // MQTT clients log in: the simulator as a publisher of the store; you, to try things by hand, as its operator
    const simulatorLogin = demoLogin(gateway, { name: 'demo-simulator', role: 'publisher', stores: [store.id] });
    const login = demoLogin(gateway, { name: 'demo-operator', role: 'operator', stores: [store.id] });
    say(`  MQTT login        user ${login.username}  password ${login.password}   (operator of ${store.id}, generated for this run)`);
    const touchpoint = store.touchpoints[0]?.id;
    if (touchpoint)
      say(
        `  try: mosquitto_pub -h 127.0.0.1 -p ${gateway.mqttPort} -u ${login.username} -P '${login.password}' -q 1 -t ${config.mqtt.topicPrefix}/${store.id}/touchpoint/${touchpoint} -m '{"ts":'$(date +%s%3N)',"action":"tap"}'`,
      );
    say('Press Ctrl-C to stop.');
    say('');

    const controller = new AbortController();
    const base = {
      ...DEFAULT_SIMULATION_OPTIONS,
      store,
      topicPrefix: config.mqtt.topicPrefix,
      seed: Number(options.seed),
      visitorsPerHour: Number(options.visitorsPerHour),
      // visitors come in the store's opening hours (stores[].openingHours), busiest at lunch and after work
      arrivalProfile: 'daily' as const,
    };
    const live = { ...base, seed: base.seed + 1, durationMs: 8 * 3_600_000, speed: 1, ...(scenario ? { scenario } : {}) };
    resolveSimulationOptions(live); // a scenario that does not fit the store fails now, not after the backfill
    const backfill = async (into: HistoryStatus) => {
      const startedAt = Date.now();
      const fromMs = startedAt - backfillMs;
      say(`simulator: backfilling the last ${options.backfill} of store life, oldest first…`);
      let published = 0;
      let saidAt = Date.now();
      // the whole span, then the minutes that passed meanwhile, until the live store can take over where history ends
      for (let part = 0, now = startedAt, durationMs = backfillMs; ; part += 1) {
        into.begin(fromMs, now);
        // in a worker thread: planning days of store life and making their messages leave this event loop to the gateway
        const run = await runSimulationInWorker(
          {
            ...base,
            // each catch-up its own seed: not the first minutes of the backfill over again
            seed: part === 0 ? base.seed : base.seed + 100 + part,
            durationMs,
            now,
            speed: 0,
            url: urls.mqtt,
            login: simulatorLogin,
            // the next run (a catch-up, the live store) takes over at once: its agent stays online
            keepAgentsOnline: true,
            completeTruthWhenStopped: false,
          },
          {
            log: part === 0 ? say : () => undefined,
            signal: controller.signal,
            onProgress: (simulatedMs) => {
              into.reach(simulatedMs);
              if (Date.now() - saidAt < PROGRESS_LINE_EVERY_MS) return;
              saidAt = Date.now();
              say(
                `simulator: history published up to ${new Date(simulatedMs).toISOString().slice(0, 16)}Z (${Math.floor((100 * (simulatedMs - fromMs)) / (now - fromMs))} %)`,
              );
            },
          },
        );
        published += run.publishedMessages;
        if (controller.signal.aborted) return;
        into.reach(now);
        const behindMs = Date.now() - now;
        if (behindMs < CATCH_UP_WITHIN_MS) break;
        durationMs = behindMs;
        now += behindMs;
      }
      into.finish();
      say(`simulator: ${options.backfill} of history (${published} messages) published in ${formatDuration(Date.now() - startedAt)}`);
    };
    const simulate = async () => {
      if (history) await backfill(history);
      if (controller.signal.aborted) return;
      say('simulator: live store, in real time (watch the dashboards)');
      await runSimulation({
        ...live,
        ...(influxOutage ? { influxOutage } : {}),
        url: urls.mqtt,
        login: simulatorLogin,
        progress: false,
        log: () => undefined,
        signal: controller.signal,
        completeTruthWhenStopped: false,
      });
    };
    const simulation = simulate().catch((err: unknown) => {
      if (!controller.signal.aborted) say(`simulator stopped: ${(err as Error).message}`);
    });
    const stopTimer = options.stopAfter ? setTimeout(() => process.kill(process.pid, 'SIGTERM'), parseDuration(options.stopAfter)) : undefined;
    await waitForSignal(log, async () => {
      if (stopTimer) clearTimeout(stopTimer);
      controller.abort();
      await simulation;
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    say('storeloop demo stopped.');
  } finally {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  }
}
