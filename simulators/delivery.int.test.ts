/**
 * The delivery model against its documented parameters: clock offsets within their spread, loss and
 * duplicate rates within binomial bounds, latency and stalls reordering a source's messages, outages
 * replayed in order at their end with their original ts, explicit faults applied exactly, and the
 * truth's counts agreeing with what a gateway with mid dedup and the default time window accepts.
 */
import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { buildSimulation } from './build.js';
import { DEFAULT_DELIVERY_OPTIONS, IDEAL_DELIVERY_OPTIONS, type DeliveryOptions, type SourceFault } from './delivery-options.js';
import { countReordered, deliverMessages, planOutages, REPLAY_GAP_MS, WILL_DELAY_MS, type DeliveryParams } from './delivery.js';
import { SimulationOptionsError } from './errors.js';
import { isConsentMessage, messageBody, type SimMessage } from './messages.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { SensorClocks } from './sensor-clocks.js';

const NOW = Date.UTC(2025, 5, 14, 15, 30, 0);
const STORE = StoreSchema.parse(DEMO_STORE);
const START = NOW - 3_600_000;
const END = NOW;

/** Binomial count within four standard deviations of n·p. */
function expectBinomial(count: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count - n * p), `${what}: ${count} of ${n} at p = ${p}`).toBeLessThanOrEqual(4 * sd + 1);
}

function params(delivery: Partial<DeliveryOptions>, sourceFaults: SourceFault[] = [], seed = 3): DeliveryParams {
  const d = { ...IDEAL_DELIVERY_OPTIONS, ...delivery };
  const clockParams = { seed, store: STORE, startMs: START, endMs: END, delivery: d, sourceFaults };
  return { ...clockParams, runId: 'run1', topicPrefix: 'storeloop', clocks: new SensorClocks(clockParams) };
}

/** One BLE message per sensor every `everyMs` over the hour, in true-time order. */
function traffic(everyMs: number, sensors = ['ble-entrance', 'ble-women']): SimMessage[] {
  const out: SimMessage[] = [];
  let seq = 0;
  for (let t = START + everyMs; t <= END; t += everyMs) {
    for (const sourceId of sensors) {
      seq += 1;
      out.push({
        topic: `storeloop/demo-store/ble/${sourceId}`,
        kind: 'ble',
        storeId: 'demo-store',
        sourceId,
        ts: t,
        trueTs: t,
        sendAt: t,
        qos: 1,
        retain: false,
        payload: { v: 1, mid: `${sourceId}-run1-${seq}`, ts: t, sightings: [] },
      });
    }
  }
  return out;
}

const options = (overrides: Partial<SimulationOptions> = {}): SimulationOptions => ({
  ...DEFAULT_SIMULATION_OPTIONS,
  now: NOW,
  durationMs: 30 * 60_000,
  ...overrides,
});

describe('sensor clocks', () => {
  const { layout: _layout, ...withoutLayout } = DEMO_STORE;
  const many = StoreSchema.parse({
    ...withoutLayout,
    sensors: Array.from({ length: 600 }, (_, i) => ({ id: `ble-${i}`, type: 'ble', zone: 'entrance' })),
    touchpoints: [],
    devices: [],
  });
  const delivery = DEFAULT_DELIVERY_OPTIONS;
  const clocks = new SensorClocks({ seed: 1, store: many, startMs: START, endMs: END, delivery, sourceFaults: [] });
  const all = Object.values(clocks.truth());

  it('leaves the stated share unsynchronised, within binomial bounds', () => {
    expectBinomial(all.filter((c) => !c.synced).length, all.length, delivery.clockUnsyncedShare, 'unsynced clocks');
  });

  it('keeps synchronised clocks within NTP accuracy and unsynchronised ones within their spread and drift', () => {
    const synced = all.filter((c) => c.synced);
    const unsynced = all.filter((c) => !c.synced);
    for (const c of synced) expect([Math.abs(c.offsetMs) <= 5 * delivery.clockSyncedSdMs, c.driftPpm]).toEqual([true, 0]);
    for (const c of unsynced) {
      expect(Math.abs(c.offsetMs)).toBeLessThanOrEqual(delivery.clockMaxOffsetMs);
      expect(Math.abs(c.driftPpm)).toBeLessThanOrEqual(delivery.clockDriftPpm);
    }
    // the sample standard deviation of the unsynchronised offsets is near the stated one
    const sd = Math.sqrt(unsynced.reduce((s, c) => s + c.offsetMs ** 2, 0) / unsynced.length);
    expect(sd).toBeGreaterThan(0.6 * delivery.clockUnsyncedSdMs);
    expect(sd).toBeLessThan(1.4 * delivery.clockUnsyncedSdMs);
  });

  it('stamps by the formula the truth states', () => {
    for (const [id, c] of Object.entries(clocks.truth()).slice(0, 50)) {
      for (const t of [START, START + 1_234_567, END]) {
        const drifted = Math.max(-delivery.clockMaxOffsetMs, Math.min(delivery.clockMaxOffsetMs, c.offsetMs + c.driftPpm * 1e-6 * (t - START)));
        expect(clocks.stamp(id, t), id).toBe(t + Math.round(drifted));
      }
    }
  });

  it('adds a clock_skew fault exactly while it lasts, to every source behind a named agent', () => {
    const fault: SourceFault = { kind: 'clock_skew', sourceIds: ['edge-1'], from: 600_000, to: 900_000, offsetMs: 42_000 };
    const skewed = new SensorClocks({ seed: 1, store: STORE, startMs: START, endMs: END, delivery: IDEAL_DELIVERY_OPTIONS, sourceFaults: [fault] });
    for (const id of ['ble-entrance', 'counter-door', 'edge-1']) {
      expect(skewed.stamp(id, START + 599_999)).toBe(START + 599_999);
      expect(skewed.stamp(id, START + 600_000)).toBe(START + 642_000);
      expect(skewed.stamp(id, START + 899_999)).toBe(START + 941_999);
      expect(skewed.stamp(id, START + 900_000)).toBe(START + 900_000);
    }
  });
});

describe('delivery', () => {
  const messages = traffic(1000); // 7,200 messages

  it('loses and doubles messages at the stated rates, within binomial bounds', () => {
    const { messages: out, truth } = deliverMessages(messages, params({ lossRate: 0.05, duplicateRate: 0.03 }));
    expectBinomial(truth.lost, messages.length, 0.05, 'lost');
    expectBinomial(truth.duplicated, messages.length - truth.lost, 0.03, 'duplicated');
    expect(out.length).toBe(messages.length - truth.lost + truth.duplicated);
    // a duplicate repeats the mid and the bytes of a first copy sent before it
    const sent = new Map<string, string>();
    for (const m of out) {
      const mid = m.payload.mid as string;
      if (m.duplicate) expect(sent.get(mid), mid).toBe(messageBody({ ...m, duplicate: undefined } as unknown as SimMessage));
      else sent.set(mid, messageBody(m));
    }
  });

  it('sends every message at or after it happened, never after the window, in sendAt order; stalls reorder a source', () => {
    const { messages: out, truth } = deliverMessages(messages, params({ latencyMedianMs: 40, latencySigma: 0.8, stallShare: 0.02, stallMaxMs: 20_000 }));
    let previous = -Infinity;
    for (const m of out) {
      expect(m.sendAt).toBeGreaterThanOrEqual(m.trueTs);
      expect(m.sendAt).toBeLessThanOrEqual(END);
      expect(m.sendAt).toBeGreaterThanOrEqual(previous);
      previous = m.sendAt;
    }
    expect(truth.reordered).toBe(countReordered(out));
    expect(truth.reordered).toBeGreaterThan(0);
    expect(truth.maxDelayMs).toBeLessThanOrEqual(20_000 + 10_000);
    const noStalls = deliverMessages(messages, params({ latencyMedianMs: 40, latencySigma: 0.8 }));
    // 1 s apart: a 40 ms latency (σ 0.8) reorders a source only from its far tail
    expect(noStalls.truth.reordered).toBeLessThan(truth.reordered / 5);
  });

  it('replays an offline span in order at its end with the original ts, and reports the agent offline then online', () => {
    const fault: SourceFault = { kind: 'offline', sourceIds: ['edge-1'], from: 600_000, to: 1_200_000, replay: true };
    const { messages: out, truth } = deliverMessages(messages, params({}, [fault]));
    const held = messages.filter((m) => m.trueTs >= START + 600_000 && m.trueTs < START + 1_200_000);
    const replayed = out.filter((m) => m.sendAt >= START + 1_200_000 && m.trueTs < START + 1_200_000 && !m.outage);
    expect(replayed.map((m) => [m.payload.mid, m.ts])).toEqual(held.map((m) => [m.payload.mid, m.ts]));
    replayed.forEach((m, i) => expect(m.sendAt).toBe(START + 1_200_000 + i * REPLAY_GAP_MS));
    // the queue is FIFO: what the sources make while it drains goes out after the replay
    const live = out.filter((m) => !m.outage && m.trueTs >= START + 1_200_000);
    expect(out.indexOf(live[0] as SimMessage)).toBe(out.indexOf(replayed.at(-1) as SimMessage) + 1);
    expect(truth.reordered).toBe(0);
    expect(truth).toMatchObject({ lost: 0, replayed: held.length });
    expect(truth.outages).toEqual([
      expect.objectContaining({ agent: 'edge-1', cause: 'fault', from: START + 600_000, to: START + 1_200_000, replayed: held.length, lost: 0 }),
    ]);
    const statuses = out.filter((m) => m.outage);
    expect(statuses.map((m) => [m.sendAt, m.payload])).toEqual([
      [START + 600_000 + WILL_DELAY_MS, expect.objectContaining({ state: 'offline', detail: 'connection lost', mid: 'edge-1-run1-outage1-will' })],
      [START + 1_200_000, expect.objectContaining({ state: 'online', queue_depth: held.length, ts: START + 1_200_000 })],
    ]);
    // the online status goes out before the replay
    expect(out.findIndex((m) => m.outage && m.kind === 'status' && m.payload.state === 'online')).toBeLessThan(out.indexOf(replayed[0] as SimMessage));
  });

  it('loses an offline span without replay, and clips a replay past the window to its end', () => {
    const lostFault: SourceFault = { kind: 'offline', sourceIds: ['ble-women'], from: 0, to: 300_000, replay: false };
    const lost = deliverMessages(messages, params({}, [lostFault]));
    expect(lost.truth.lost).toBe(299); // ticks at +1 s … +299 s
    expect(lost.messages.some((m) => m.sourceId === 'ble-women' && m.trueTs < START + 300_000)).toBe(false);
    expect(lost.messages.filter((m) => m.outage)).toEqual([]); // a sensor, not an agent: no status
    const late: SourceFault = { kind: 'offline', sourceIds: ['ble-women'], from: 3_000_000, to: 4_000_000, replay: true };
    const clipped = deliverMessages(messages, params({}, [late]));
    expect(clipped.truth.replayed).toBe(601); // ticks at +3000 s … +3600 s
    expect(clipped.messages.filter((m) => m.sourceId === 'ble-women' && m.trueTs >= START + 3_000_000).every((m) => m.sendAt === END)).toBe(true);
  });

  it('draws uplink outages at the stated rate per agent and day', () => {
    const agents = StoreSchema.parse({ ...DEMO_STORE, agents: Array.from({ length: 50 }, (_, i) => ({ id: `edge-${i}` })) });
    const p = { ...params({ outagesPerAgentDay: 2, outageMeanMs: 600_000, outageReplayShare: 0.9 }), store: agents, endMs: START + 10 * 86_400_000 };
    const outages = planOutages(p);
    // 50 agents × 10 days × 2 a day, less the time spent in outages (~1.4 %)
    expect(Math.abs(outages.length - 1000)).toBeLessThan(4 * Math.sqrt(1000) + 20);
    expectBinomial(outages.filter((o) => o.replay).length, outages.length, 0.9, 'replayed outages');
    const meanMs = outages.reduce((s, o) => s + (o.to - o.from), 0) / outages.length;
    expect(meanMs).toBeGreaterThan(500_000);
    expect(meanMs).toBeLessThan(700_000);
  });
});

describe('a simulation with delivery effects', () => {
  const faults: SourceFault[] = [
    { kind: 'offline', sourceIds: ['edge-1'], from: 300_000, to: 600_000, replay: true },
    { kind: 'offline', sourceIds: ['wifi-back'], from: 900_000, to: 1_000_000, replay: false },
    { kind: 'clock_skew', sourceIds: ['ble-men'], from: 1_200_000, to: 1_260_000, offsetMs: 1_200_000 },
  ];
  const opts = options({ seed: 31, delivery: { lossRate: 0.01, duplicateRate: 0.01 }, sourceFaults: faults });
  const sim = buildSimulation(opts);

  it('is byte-identical for the same seed', () => {
    const again = buildSimulation(opts);
    expect(again.messages.map((m) => [m.topic, messageBody(m), m.sendAt])).toEqual(sim.messages.map((m) => [m.topic, messageBody(m), m.sendAt]));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(sim.truth));
  });

  it('counts lost, doubled, replayed and skew-rejected messages in the truth', () => {
    const { delivery, published, expectedRejections, publishedMessages } = sim.truth;
    expect(delivery.lost).toBeGreaterThan(20); // 100 s of wifi-back and 1 % of the rest
    expect(delivery.duplicated).toBe(published.duplicates);
    expect(delivery.replayed).toBeGreaterThan(300);
    expect(publishedMessages).toBe(sim.messages.length);
    // for a minute ble-men stamps 20 min ahead: at speed 0 everything goes out at the window's end, 10 min
    // after those scans, so their stamps are 10 min ahead of the gateway's clock, past its 5 min
    expect(expectedRejections.byReason.ts_in_future).toBe(sim.messages.filter((m) => m.sourceId === 'ble-men' && m.expectedRejection).length);
    expect(expectedRejections.byReason.ts_in_future).toBeGreaterThanOrEqual(12);
    const accepted = Object.values(published.messages).reduce((a, b) => a + b, 0);
    expect(accepted + published.duplicates + expectedRejections.messages).toBe(publishedMessages);
    expect(sim.messages.flatMap((m) => (m.kind === 'status' && m.outage ? [m.payload.state] : []))).toEqual(['offline', 'online']);
  });

  it('says per interaction what its touchpoint stamped and whether the gateway got it', () => {
    const { interactions, delivery } = sim.truth;
    expect(delivery.interactions).toHaveLength(interactions.length);
    const accepted = sim.messages.filter((m) => m.kind === 'touchpoint' && !isConsentMessage(m) && !m.duplicate && !m.expectedRejection);
    const expected = interactions.flatMap((i, k) => (delivery.interactions[k]?.delivered ? [`${i.touchpoint}@${delivery.interactions[k].stampedTs}`] : []));
    expect(accepted.map((m) => `${m.sourceId}@${m.ts}`).sort()).toEqual(expected.sort());
    interactions.forEach((i, k) => {
      const c = delivery.clocks[i.touchpoint] as { offsetMs: number; driftPpm: number };
      const drifted = Math.max(-120_000, Math.min(120_000, c.offsetMs + c.driftPpm * 1e-6 * (i.ts - sim.truth.windowStart)));
      expect(delivery.interactions[k]?.stampedTs).toBe(i.ts + Math.round(drifted));
    });
  });

  it('leaves the model alone: visits and interactions are those of an ideal delivery', () => {
    const ideal = buildSimulation({ ...opts, delivery: IDEAL_DELIVERY_OPTIONS, sourceFaults: [] });
    expect(ideal.truth.visits).toEqual(sim.truth.visits);
    expect(ideal.truth.interactions).toEqual(sim.truth.interactions);
    expect(ideal.truth.delivery).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, replayed: 0, maxDelayMs: 0, outages: [] });
    expect(ideal.messages.every((m) => m.ts === m.trueTs && m.sendAt === m.trueTs)).toBe(true);
  });

  it('refuses faults naming a source the store does not have', () => {
    expect(() => buildSimulation(options({ sourceFaults: [{ kind: 'offline', sourceIds: ['ghost'], from: 0, to: 1000, replay: true }] }))).toThrow(
      SimulationOptionsError,
    );
    expect(() => buildSimulation(options({ sourceFaults: [{ kind: 'offline', sourceIds: ['edge-1'], from: 5000, to: 1000, replay: true }] }))).toThrow(
      /from < to/,
    );
  });
});
