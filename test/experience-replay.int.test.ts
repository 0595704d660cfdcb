/**
 * Replay through the real gateway (issue #12, "How to prove it": the same traffic delivered late, as
 * an edge after an outage, yields the same visits). One seeded simulation is published over MQTT to
 * two gateways as shipped (their own processes, one influxd, a database each): to the first in the
 * order it goes on the wire, to the second with two BLE scanners' messages of a ten-minute span held
 * back and published after the rest of that span, as an edge sends its queue when its uplink comes
 * back (well within sinks.experience.maxSourceLagMinutes, so the watermark waits for them). Then every
 * sensor reports once more, stamped past the window's end by the finalisation delay, so the engine
 * closes every visit of the window. Once each gateway's sinks have consumed everything its log holds,
 * the engine's visits, zone stays, exposures, passers-by and occupancy read back from InfluxDB are the
 * same in both: same ids, same content. experience-determinism.int.test.ts proves the same at the sink
 * alone; this adds the broker, the event log's order, the sink runner's batches, the derived log, the
 * InfluxDB writer, and what the gateway stamps itself (an offline status: on arrival).
 */
import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { readEngineEvents, type EngineEvents } from '../evaluation/engine-events.js';
import { buildTopic } from '../protocol/index.js';
import { buildSimulation, DEFAULT_SIMULATION_OPTIONS, messageBody, type SimMessage } from '../simulators/index.js';
import { MqttPublisher } from '../simulators/publisher.js';
import { metricValue } from './helpers/gateway.js';
import { GatewayProcess, type GatewayLedger } from './helpers/gateway-process.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';

const cleanups = useCleanups();
const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;
const MIN = 60_000;
/** 11:10–12:00 in Paris on a Monday, the store open; a fixed window, so every run publishes the same bytes. */
const END = Date.UTC(2026, 10, 30, 11);
const DURATION_MS = 50 * MIN;
const START = END - DURATION_MS;
/**
 * The outage: what these scanners sent in [OUTAGE_FROM, OUTAGE_UNTIL) goes out after the rest of that
 * span. Past the run's first 30 minutes, when the agent's only status (at the start) has stopped
 * holding the watermark back: the held scanners alone hold it.
 */
const HELD = new Set(['ble-women', 'ble-fitting']);
const OUTAGE_FROM = START + 32 * MIN;
const OUTAGE_UNTIL = OUTAGE_FROM + 10 * MIN;
/**
 * The sensors' last reports: a visit closes at the first 5-minute boundary its device has been unheard
 * for 15 minutes before (maxGapMs), processed once the watermark is a minute past it; a sensor's clock
 * may run a few minutes ahead, so stamps a little past END close at END + 20 min.
 */
const TAIL = END + 25 * MIN;

interface Wire {
  topic: string;
  body: string;
  qos: 0 | 1;
  retain: boolean;
}

const onWire = (m: SimMessage): Wire => ({ topic: m.topic, body: messageBody(m), qos: m.qos, retain: m.retain });

/** The simulation's messages with the held scanners' messages of the outage moved to its end; how many moved. */
function withOutage(messages: readonly SimMessage[]): { reordered: SimMessage[]; held: number } {
  const isHeld = (m: SimMessage) => HELD.has(m.sourceId) && m.sendAt >= OUTAGE_FROM && m.sendAt < OUTAGE_UNTIL;
  const late = messages.filter(isHeld);
  const rest = messages.filter((m) => !isHeld(m));
  const back = rest.findIndex((m) => m.sendAt >= OUTAGE_UNTIL);
  return { reordered: [...rest.slice(0, back), ...late, ...rest.slice(back)], held: late.length };
}

/** One empty report of every sensor stamped TAIL (the agent's last status is long past maxSourceLag: it holds nothing back). */
function tail(prefix: string): Wire[] {
  return store.sensors.map((s) => {
    const ts = TAIL;
    const mid = `${s.id}-replay-tail`;
    const payload = s.type === 'ble' ? { v: 1, mid, ts, sightings: [] } : { v: 1, mid, ts, observations: [] };
    return { topic: buildTopic(prefix, { storeId: store.id, kind: s.type, sourceId: s.id }), body: JSON.stringify(payload), qos: 1, retain: false };
  });
}

/** Publishes `messages` in that order over one MQTT connection; resolves once every one is acknowledged. */
async function publish(gateway: GatewayProcess, messages: readonly Wire[]): Promise<void> {
  const publisher = new MqttPublisher({
    url: gateway.mqttUrl,
    clientId: 'replay-test',
    maxInFlight: 200,
    connectTimeoutMs: 10_000,
    reconnectGiveUpMs: 10_000,
    log: () => undefined,
  });
  await publisher.start();
  try {
    for (const m of messages) await publisher.publish(m.topic, m.body, m.qos, m.retain);
    await publisher.drain();
  } finally {
    await publisher.stop(true);
  }
}

/** A gateway of its own on database `database` of the shared influxd, started. */
async function gatewayOn(influxd: TestInfluxd, database: string): Promise<GatewayProcess> {
  const gateway = await GatewayProcess.create(testBuild(), influxd.url, {
    influx: { url: influxd.url, api: 'v1', database, timeoutMs: 2000 },
    // the window is fixed (not the test's day): accept its event times whenever the test runs
    ingest: { maxPastSeconds: 20 * 365 * 86_400 },
  });
  cleanups.push(() => gateway.destroy());
  await gateway.start();
  return gateway;
}

/** The ledger once every sink has consumed everything the log holds (the engine's derived records included). */
function caughtUp(gateway: GatewayProcess, what: string): Promise<GatewayLedger> {
  return eventually(
    () => gateway.ledger(),
    (l) => l.sinks.length === 3 && l.sinks.every((s) => s.lag.records === 0),
    `the ${what} gateway's sinks to catch up`,
    60_000,
  );
}

/** The engine's events in `database`, each list in a fixed order (InfluxDB answers series by series). */
async function engineEvents(influxd: TestInfluxd, database: string): Promise<EngineEvents> {
  const events = await readEngineEvents({ query: (q, o) => influxd.query(database, q, o) }, store.id, START - 60 * MIN, TAIL + 60 * MIN);
  const by =
    <T>(key: (x: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  const at = (ms: number) => String(ms).padStart(15, '0');
  events.visits.sort(by((v) => v.id));
  events.stays.sort(by((s) => `${s.visitId} ${at(s.enter)} ${s.zone}`));
  events.exposures.sort(by((e) => `${e.visitor} ${e.touchpoint} ${String(e.interacted)}`));
  events.passersBy.sort(by((p) => `${at(p.at)} ${p.visitor}`));
  return events;
}

describe('experience engine replay through the real gateway', () => {
  it('makes the same visits, zone stays and exposures when two scanners replay ten minutes late', { timeout: 120_000 }, async () => {
    const sim = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, store, seed: 11, durationMs: DURATION_MS, now: END });
    const inOrder = sim.messages; // ascending sendAt: the order they go on the wire
    const { reordered, held } = withOutage(inOrder);
    expect(held).toBeGreaterThan(200); // two scanners' batches every 5 s for ten minutes
    const all = new Set(inOrder);
    expect(reordered.length === inOrder.length && reordered.every((m) => all.has(m))).toBe(true); // the same messages
    expect(reordered).not.toEqual(inOrder);
    const last = tail(sim.options.topicPrefix);

    const influxd = await startInfluxd();
    cleanups.push(() => influxd.stop());
    const [first, second] = await Promise.all([gatewayOn(influxd, 'in_order'), gatewayOn(influxd, 'outage')]);
    await Promise.all([publish(first, [...inOrder.map(onWire), ...last]), publish(second, [...reordered.map(onWire), ...last])]);
    const [firstLedger, secondLedger] = await Promise.all([caughtUp(first, 'in-order'), caughtUp(second, 'outage')]);
    expect(secondLedger.totals).toEqual(firstLedger.totals); // the same messages taken in (and the same rejected)
    expect(firstLedger.totals.states['logged']).toBeGreaterThan(inOrder.length * 0.95);
    for (const gateway of [first, second]) {
      // nothing reached the engine after its watermark had passed it: the replay landed in place
      expect(await metricValue(gateway.httpUrl, 'storeloop_experience_dropped_total')).toBe(0);
      // the sensors' last reports set it; not the agent's closing offline status, stamped on arrival (today)
      expect(await metricValue(gateway.httpUrl, 'storeloop_experience_watermark_seconds')).toBe(TAIL / 1000);
      // every device heard in the window has left it: every visit of the window is final
      expect(await metricValue(gateway.httpUrl, 'storeloop_experience_open_devices')).toBe(0);
    }

    const expected = await engineEvents(influxd, 'in_order');
    const actual = await engineEvents(influxd, 'outage');
    expect(expected.visits.length).toBeGreaterThanOrEqual(10);
    expect(new Set(expected.visits.map((v) => v.id)).size).toBe(expected.visits.length);
    expect(expected.visits.every((v) => v.minutes !== undefined && v.minutes.size > 0)).toBe(true);
    expect(expected.stays.length).toBeGreaterThan(expected.visits.length);
    expect(expected.exposures.length).toBeGreaterThan(0);
    // the held scanners' zones had visitors during the outage
    for (const zone of ['aisle-women', 'fitting-rooms']) {
      expect(expected.stays.some((s) => s.zone === zone && s.enter < OUTAGE_UNTIL && s.exit > OUTAGE_FROM)).toBe(true);
    }

    expect(actual.visits).toEqual(expected.visits);
    expect(actual.stays).toEqual(expected.stays);
    expect(actual.exposures).toEqual(expected.exposures);
    expect(actual.passersBy).toEqual(expected.passersBy);
    expect(actual.occupancy).toEqual(expected.occupancy);
  });
});
