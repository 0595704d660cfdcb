/**
 * Runs a simulation against a broker: makes it as it goes, publishes every message at its time (or as
 * fast as possible), and returns (and optionally writes) the ground truth.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { buildTopic } from '../protocol/index.js';
import { InfluxOutagePlayer, type InfluxOutageControl } from './influx-outages.js';
import { influxOutages } from './scenario-effects.js';
import { formatDuration } from '../lib/duration.js';
import { RESEND_MAX_MS } from './delivery.js';
import { MessageCounter, type GroundTruth } from './ground-truth.js';
import { messageBody, type SimMessage } from './messages.js';
import type { SimulationOptions } from './options.js';
import { createProgressReporter, type ProgressState } from './progress.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_RECONNECT_GIVE_UP_MS, MqttPublisher } from './publisher.js';
import { publishTimeFor, simulatedTimeAt } from './schedule.js';
import { streamSimulation } from './simulation-stream.js';
import { agentIds, willPayload } from './status.js';

export interface RunOptions {
  /** mqtt://host:port (TCP) or ws://host:port/mqtt (WebSocket). */
  url: string;
  /** The MQTT identity to log in as (a publisher of the store); default: the URL's user info, or none. */
  login?: { username: string; password: string } | undefined;
  /** QoS of every message (default 1). */
  qos?: 0 | 1;
  /** Show progress: a bar when stderr is a TTY, else a line every 5 s through `log` (default false). */
  progress?: boolean;
  /** Write the ground truth here as JSON when the run ends. */
  truthFile?: string;
  /** Lifecycle lines (start, connection trouble, summary); default: silent. */
  log?: (line: string) => void;
  /** Stops the run early: an offline status still goes out and the truth says `completed: false`. */
  signal?: AbortSignal;
  /**
   * Another run of the same store takes over when this one ends (the demo: a backfill, then the live
   * store): the agents stay online, so their closing `offline` statuses are not published, nor counted
   * in the truth. A run stopped early still reports them offline; the last will still covers a crash.
   */
  keepAgentsOnline?: boolean;
  /** Unacknowledged publishes at most (default 500). */
  maxInFlight?: number;
  /**
   * Stops and starts InfluxDB for the scenario's `influx_outage` events (the demo: its own influxd;
   * `storeloop simulate`: the event's shell commands). Required when the scenario has one.
   */
  influxOutage?: InfluxOutageControl;
  /**
   * A run stopped early still makes the rest of its messages, unpublished, so that its truth (the
   * people, the interactions, the delivery) is the whole run's (default true). False: it returns at
   * once, its truth covering what was made by then (the demo, which reads no truth).
   */
  completeTruthWhenStopped?: boolean;
  /** Called after each publish with the simulated instant it went out at (`sendAt`, epoch ms): how far the run has got. */
  onProgress?: (simulatedMs: number) => void;
  /** Time to wait for the broker's CONNACK (default 10 s). */
  connectTimeoutMs?: number;
  /** How long a lost connection may stay lost before the run fails (default 30 s). */
  reconnectGiveUpMs?: number;
}

/** A URL as it may be shown: without a password in it. */
function withoutUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

export type RunSimulationOptions = SimulationOptions & RunOptions;

/**
 * Makes and publishes a simulation as it goes (simulation-stream.ts: only the messages not yet due are
 * held, so a run of days fits in memory); resolves with its ground truth once every publish is acknowledged.
 */
export async function runSimulation(opts: RunSimulationOptions): Promise<GroundTruth> {
  const log = opts.log ?? (() => undefined);
  const stream = streamSimulation({ ...opts, now: opts.now ?? Date.now() });
  const { window, options, runId, visitors } = stream.model;
  const { store, topicPrefix } = options;
  const handOver = opts.keepAgentsOnline === true;
  const agents = agentIds(store);
  const outages = new InfluxOutagePlayer(influxOutages(stream.model.events), opts.influxOutage, log);
  log(
    `simulate: store ${store.id}, seed ${options.seed}, run ${runId}: ${formatDuration(options.durationMs)} ` +
      `(${visitors.length} visitors), ${options.speed === 0 ? 'as fast as possible' : `speed x${options.speed}`}, to ${withoutUserInfo(opts.url)}`,
  );
  const publisherFor = (agent: string, clientId: string) =>
    new MqttPublisher({
      url: opts.url,
      login: opts.login,
      clientId,
      will: {
        topic: buildTopic(topicPrefix, { storeId: store.id, kind: 'status', sourceId: agent }),
        payload: JSON.stringify(willPayload(agent, runId)),
        qos: 1,
        retain: true,
      },
      maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      reconnectGiveUpMs: opts.reconnectGiveUpMs ?? DEFAULT_RECONNECT_GIVE_UP_MS,
      log,
    });
  const clientId = `storeloop-sim-${runId}`;
  const main = publisherFor(agents[0] as string, clientId); // agentIds never answers an empty list
  // one MQTT connection carries one will: every further agent gets an idle connection holding its own
  const willHolders = agents.slice(1).map((agent, i) => publisherFor(agent, `${clientId}-${i + 2}`));
  const progress = createProgressReporter({
    enabled: opts.progress ?? false,
    windowStartMs: window.startMs,
    windowEndMs: window.endMs,
    stream: process.stderr,
    log,
  });
  const state: ProgressState = { sent: 0, completed: 0, simulatedTs: window.startMs };
  // what went out, counted as the truth counts it (a handed-over run leaves out its closing statuses)
  const counted = new MessageCounter(stream.model.knownSources, RESEND_MAX_MS);
  const startedAt = Date.now();
  let stopped = false;
  try {
    await main.start();
    await Promise.all(willHolders.map((h) => h.start()));
    // taken by hand: a for-of would close the stream on `break`, and a stopped run still makes the rest for its truth
    const messages = stream.messages[Symbol.iterator]();
    for (let next = messages.next(); !next.done; next = messages.next()) {
      const message = next.value;
      if (handOver && isOfflineStatus(message)) continue;
      if (opts.signal?.aborted) {
        stopped = true;
        break;
      }
      if (options.speed > 0 && !(await sleepUntil(publishTimeFor(window, message.sendAt), opts.signal))) {
        stopped = true;
        break;
      }
      await outages.reach(message.sendAt);
      await main.publish(message.topic, messageBody(message), message.qos, message.retain);
      counted.add(message);
      state.sent += 1;
      state.completed = main.completed;
      state.simulatedTs = message.sendAt;
      progress.update(state);
      opts.onProgress?.(message.sendAt);
    }
    let result: GroundTruth;
    if (stopped) {
      // against the clock the simulated time has moved on since the last message; flat out it is that message's
      const stoppedAt = options.speed === 0 ? state.simulatedTs : Math.max(state.simulatedTs, simulatedTimeAt(window, Date.now()));
      const farewells = stoppedStatuses(stream.closingStatuses(), stoppedAt);
      for (const m of farewells) {
        await main.publish(m.topic, messageBody(m), m.qos, m.retain);
        counted.add(m);
      }
      // the truth of the whole run (the people, the interactions) needs the rest of it made, not published
      if (opts.completeTruthWhenStopped !== false) drain(messages);
      result = { ...stream.truth(), completed: false, stoppedAt, ...counted.counts() };
      log(`simulate: stopped at simulated +${formatDuration(stoppedAt - window.startMs)}; agents reported offline`);
    } else result = { ...stream.truth(), ...counted.counts() };
    await main.drain();
    await outages.finish();
    state.completed = main.completed;
    progress.stop(state);
    await Promise.all(willHolders.map((h) => h.stop()));
    await main.stop();
    if (opts.truthFile) await writeTruth(opts.truthFile, result);
    log(
      `simulate: ${result.publishedMessages} messages published in ${formatDuration(Date.now() - startedAt)}; ` +
        `points ${JSON.stringify(result.published.points)}${opts.truthFile ? `; ground truth in ${opts.truthFile}` : ''}`,
    );
    return result;
  } catch (err) {
    progress.stop(state);
    await outages.finish().catch(() => undefined);
    await Promise.all([main, ...willHolders].map((p) => p.stop(true)));
    throw err;
  }
}

/** A planned end-of-run `offline` status of an agent (not the will of an uplink outage). */
function isOfflineStatus(m: SimMessage): boolean {
  return m.kind === 'status' && m.payload.state === 'offline' && !m.outage;
}

/** The planned end-of-run offline statuses, re-stamped with the time the run stopped at. */
function stoppedStatuses(messages: readonly SimMessage[], stoppedAt: number): SimMessage[] {
  return messages.flatMap((m) => {
    if (m.kind !== 'status' || m.payload.state !== 'offline' || m.outage) return [];
    const { uptime_s: uptime, ...rest } = m.payload;
    const shortenedBy = Math.round((m.trueTs - stoppedAt) / 1000);
    return [
      {
        ...m,
        ts: stoppedAt,
        trueTs: stoppedAt,
        sendAt: stoppedAt,
        payload: { ...rest, ts: stoppedAt, detail: 'simulation stopped', ...(uptime !== undefined ? { uptime_s: Math.max(0, uptime - shortenedBy) } : {}) },
      },
    ];
  });
}

/** Takes an iterator to its end. */
function drain(iterator: Iterator<unknown>): void {
  while (!iterator.next().done);
}

/** Waits until the real clock reaches `dueMs`; false when aborted first. */
async function sleepUntil(dueMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  for (;;) {
    const waitMs = dueMs - Date.now();
    if (waitMs <= 0) return true;
    if (signal?.aborted) return false;
    try {
      await delay(Math.min(Math.ceil(waitMs), 1000), undefined, signal ? { signal } : {});
    } catch (err) {
      if (signal?.aborted) return false;
      throw err;
    }
  }
}

async function writeTruth(file: string, truth: GroundTruth): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(truth, null, 2)}\n`);
}
