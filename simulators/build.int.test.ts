/**
 * The pure simulation: determinism, contract validity of every message, and a ground truth that
 * agrees with an independent recount over the messages (decoded with the protocol's own decoder).
 * Pure, but seconds of CPU (it builds several simulations): an integration test by the house rule,
 * so the unit project stays fast.
 */
import { isDeepStrictEqual } from 'node:util';

import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema, type StoreConfig } from '../config/index.js';
import {
  IBEACON_ID,
  PSEUDONYM_PATTERN,
  decodeJson,
  decodeMessage,
  isConsentAction,
  isContractTopic,
  kindSpec,
  parseTopic,
  type MessageKind,
} from '../protocol/index.js';
import { buildSimulation, type Simulation } from './build.js';
import { INJECTION_REASONS, isConsentMessage, messageBody, type InjectionReason, type SimMessage } from './messages.js';
import { DEFAULT_SIMULATION_OPTIONS, MAX_DURATION_MS, type SimulationOptions } from './options.js';
import { IDEAL_DELIVERY_OPTIONS } from './delivery-options.js';
import { publishTimeFor, type SimulationWindow } from './schedule.js';
import { SimulationOptionsError } from './errors.js';
import type { GroundTruth, Measurement } from './ground-truth.js';

const NOW = Date.UTC(2025, 5, 14, 15, 30, 0); // a Saturday afternoon in Paris
const MAX_FUTURE_MS = 300_000; // the gateway's default ingest.maxFutureSeconds

/** A store unlike the demo: grid layout, two doors, no agents, a counter without zone and one in an aisle. */
const OTHER_STORE = StoreSchema.parse({
  id: 'mall-12',
  timezone: 'Europe/Berlin',
  zones: [
    { id: 'front', kind: 'aisle' },
    { id: 'door-north', kind: 'entrance' },
    { id: 'door-south', kind: 'entrance' },
    { id: 'shoes', kind: 'display' },
    { id: 'cabins', kind: 'fitting_room' },
    { id: 'tills', kind: 'checkout' },
    { id: 'stock', kind: 'backroom' },
    { id: 'cafe', kind: 'other' },
  ],
  sensors: [
    { id: 'ble-n', type: 'ble', zone: 'door-north' },
    { id: 'ble-front', type: 'ble', zone: 'front' },
    { id: 'ble-front-2', type: 'ble', zone: 'front' },
    { id: 'ble-cafe', type: 'ble', zone: 'cafe' },
    { id: 'wifi-1', type: 'wifi', zone: 'tills' },
  ],
  touchpoints: [
    { id: 'kiosk-a', type: 'kiosk', zone: 'front' },
    { id: 'mirror-a', type: 'mirror', zone: 'cabins' },
    { id: 'qr-a', type: 'qr', zone: 'shoes' },
    { id: 'smiley', type: 'feedback', zone: 'tills' },
  ],
  devices: [
    { id: 'count-all', type: 'people_counter' },
    { id: 'count-front', type: 'people_counter', zone: 'front' },
    { id: 'count-north', type: 'people_counter', zone: 'door-north' },
    { id: 'shelf-1', type: 'smart_shelf', zone: 'shoes' },
    { id: 'env-1', type: 'environment' },
  ],
});

function options(overrides: Partial<SimulationOptions> = {}): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, now: NOW, durationMs: 45 * 60_000, ...overrides };
}

// half an hour (a quarter for the busy store): long enough for stays over 10 minutes, MAC rotations on air and
// thousands of messages, every one of them checked
const scenarios = [
  { name: 'demo store', opts: options({ seed: 11, durationMs: 30 * 60_000 }) },
  { name: 'demo store, busy, 2 s scans', opts: options({ seed: 12, visitorsPerHour: 600, scanIntervalMs: 2000, appShare: 0.5, durationMs: 15 * 60_000 }) },
  { name: 'grid store without agents', opts: options({ seed: 13, store: OTHER_STORE, visitorsPerHour: 200, durationMs: 30 * 60_000 }) },
];

/** Anyone the scanners may hear: visitors, staff, passers-by and devices left behind, with when they can be heard, [from, to). */
interface Hearable {
  who: string;
  app: boolean;
  beacon?: string;
  randomizedMac: boolean;
  wifiPseudonyms: string[];
  heard: Array<[number, number]>;
}

function hearables(truth: GroundTruth): Hearable[] {
  const open = (to: number | null) => to ?? Infinity;
  return [
    // visitors inside, and on the street before and after (under the pseudonyms inside or those of the street)
    ...truth.visits.map((v) => ({
      ...v,
      who: v.visitor,
      wifiPseudonyms: [...v.wifiPseudonyms, ...(v.streetPseudonyms ?? [])],
      heard: [
        [v.enteredAt, open(v.leftAt)] as [number, number],
        ...(v.street ?? []).map((leg): [number, number] => [leg.from, leg.to === truth.windowEnd ? Infinity : leg.to]),
      ],
    })),
    ...(truth.passersBy ?? []).map((v) => ({ ...v, who: v.visitor, heard: [[v.enteredAt, open(v.leftAt)]] as Array<[number, number]> })),
    // staff: the path's stays inside (not the break outside); the last stay clipped at the window's end may go on
    ...(truth.staff ?? []).map((v) => ({
      ...v,
      who: v.visitor,
      heard: v.path.filter((seg) => seg.zone !== 'outside').map((seg): [number, number] => [seg.from, seg.to === truth.windowEnd ? Infinity : seg.to]),
    })),
    ...(truth.strayDevices ?? []).map((d) => ({ ...d, who: d.device, heard: [[d.from, open(d.to)]] as Array<[number, number]> })),
  ];
}

function heardAt(h: Hearable, ts: number): boolean {
  return h.heard.some(([from, to]) => from <= ts && ts < to);
}

/** Which kind each configured source may publish, following the contract (sensors by their type). */
function sourceKinds(store: StoreConfig): Map<string, MessageKind[]> {
  const kinds = new Map<string, MessageKind[]>();
  for (const s of store.sensors) kinds.set(s.id, [s.type, 'status']);
  for (const t of store.touchpoints) kinds.set(t.id, ['touchpoint', 'status']);
  for (const d of store.devices) kinds.set(d.id, ['device', 'status']);
  for (const a of store.agents) kinds.set(a.id, ['status']);
  return kinds;
}

interface Recount {
  messages: Record<string, number>;
  points: Record<Measurement, number>;
  rejected: Record<InjectionReason, number>;
}

/** Counts what a gateway would accept, from the wire bytes only, with the documented rules. */
function recount(messages: readonly SimMessage[], store: StoreConfig, prefix: string, window: SimulationWindow): Recount {
  const kinds = sourceKinds(store);
  const mids = new Set<string>();
  const out: Recount = {
    messages: {},
    points: { sighting: 0, interaction: 0, consent_choice: 0, telemetry: 0, agent: 0 },
    rejected: { json_invalid: 0, source_unknown: 0, ts_in_future: 0, items_invalid: 0 },
  };
  for (const m of messages) {
    const topic = parseTopic(prefix, m.topic);
    if (!topic.ok) throw new Error(`bad topic ${m.topic}`);
    const json = decodeJson(messageBody(m));
    if (!json.ok) {
      out.rejected.json_invalid += 1;
      continue;
    }
    if (!kinds.get(topic.sourceId)?.includes(topic.kind)) {
      out.rejected.source_unknown += 1;
      continue;
    }
    const decoded = decodeMessage(topic.kind, json.value);
    if (!decoded.ok) throw new Error(`undecodable ${m.topic}: ${decoded.detail}`);
    const ts = (decoded.message as { ts?: number }).ts;
    if (ts !== undefined && ts > publishTimeFor(window, m.sendAt) + MAX_FUTURE_MS) {
      out.rejected.ts_in_future += 1;
      continue;
    }
    const mid = `${topic.sourceId}|${(decoded.message as { mid?: string }).mid}`;
    if (mids.has(mid)) continue; // the gateway's dedup
    mids.add(mid);
    out.rejected.items_invalid += decoded.itemRejections.length;
    out.messages[topic.kind] = (out.messages[topic.kind] ?? 0) + 1;
    const message = decoded.message as { sightings?: unknown[]; observations?: unknown[] };
    if (topic.kind === 'ble') out.points.sighting += message.sightings?.length ?? 0;
    else if (topic.kind === 'wifi') out.points.sighting += message.observations?.length ?? 0;
    else if (topic.kind === 'touchpoint') out.points[isConsentAction(String((message as { action?: unknown }).action)) ? 'consent_choice' : 'interaction'] += 1;
    else if (topic.kind === 'device') out.points.telemetry += 1;
    else out.points.agent += 1;
  }
  return out;
}

/** Messages a gateway accepts (a batch with one bad item included). */
function accepted(sim: Simulation): SimMessage[] {
  return sim.messages.filter((m) => m.injected?.scope !== 'message');
}

describe.each(scenarios)('simulation of the $name', ({ opts }) => {
  const sim = buildSimulation(opts);
  const { messages, truth } = sim;
  const store = sim.options.store;
  const adjacency = truth.floorPlan.adjacency;

  it('is byte-identical for the same seed and differs for another seed', () => {
    const again = buildSimulation(opts);
    expect(again.messages.map((m) => [m.topic, messageBody(m)])).toEqual(messages.map((m) => [m.topic, messageBody(m)]));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(truth));
    const other = buildSimulation({ ...opts, seed: opts.seed + 1 });
    expect(other.messages.map(messageBody)).not.toEqual(messages.map(messageBody));
    expect(other.truth.visits).not.toEqual(truth.visits);
  });

  it('has visitors, traffic of every kind, and a busy enough store to check against', () => {
    expect(truth.visits.length).toBeGreaterThan(20);
    for (const kind of ['ble', 'wifi', 'device', 'touchpoint'] as const) expect(truth.published.messages[kind], kind).toBeGreaterThan(0);
    // the stand-in agent of a store without agents is unknown to the gateway: its statuses are expected rejections
    expect(truth.published.messages.status).toBe(store.agents.length * 2);
    expect(truth.interactions.length).toBeGreaterThan(0);
  });

  it('publishes only messages that follow the contract: topic, schema, JSON body', () => {
    // every message checked, the ones that break a rule collected (one expect per rule and message made most of the test's time)
    const problems: string[] = [];
    for (const m of messages) {
      const body = messageBody(m);
      if (!isContractTopic(sim.options.topicPrefix, m.topic)) problems.push(`${m.topic}: not a contract topic`);
      const topic = parseTopic(sim.options.topicPrefix, m.topic);
      if (!isDeepStrictEqual(topic, { ok: true, storeId: store.id, kind: m.kind, sourceId: m.sourceId }))
        problems.push(`${m.topic}: parsed as ${JSON.stringify(topic)}`);
      if (!kindSpec(m.kind).schema.safeParse(JSON.parse(body)).success) problems.push(`${m.topic}: off schema ${body.slice(0, 200)}`);
      if (m.qos !== 1) problems.push(`${m.topic}: qos ${m.qos}`);
      if (m.retain !== (m.kind === 'status')) problems.push(`${m.topic}: retain ${m.retain}`);
      if (m.payload.v !== 1) problems.push(`${m.topic}: v ${m.payload.v}`);
    }
    expect(messages.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('gives every message a unique mid <sourceId>-<runId>-<seq>, counting up per source (consent choices <sourceId>-<runId>-consent<seq>, on their own)', () => {
    expect(truth.runId).toMatch(/^[0-9a-f]{8}$/);
    // in the order each source made them (true time); a lost message leaves a gap, a resend repeats its mid
    const seqs = new Map<string, number>();
    const tagOf = (m: SimMessage) => (isConsentMessage(m) ? 'consent' : '');
    const seqOf = (m: SimMessage) => Number(m.payload.mid?.slice(`${m.sourceId}-${truth.runId}-${tagOf(m)}`.length));
    // messages of one instant (a customer's purposes of one consent choice) in the order they were numbered
    const first = messages.filter((m) => !m.duplicate && !m.outage).sort((a, b) => a.trueTs - b.trueTs || seqOf(a) - seqOf(b) || a.sendAt - b.sendAt);
    for (const m of first) {
      const tag = tagOf(m);
      const seq = seqOf(m);
      expect(m.payload.mid?.startsWith(`${m.sourceId}-${truth.runId}-${tag}`)).toBe(true);
      expect(seq, m.payload.mid).toBeGreaterThan(seqs.get(`${m.sourceId} ${tag}`) ?? 0);
      seqs.set(`${m.sourceId} ${tag}`, seq);
    }
    const mids = new Set(first.map((m) => m.payload.mid));
    expect(mids.size).toBe(first.length);
    for (const m of messages.filter((x) => x.duplicate)) expect(mids.has(m.payload.mid)).toBe(true);
  });

  it('has every event happen inside the window that ends now, sent in order at or after it, stamped by its clock', () => {
    const { windowStart, windowEnd } = truth;
    expect(windowEnd).toBe(NOW);
    expect(windowEnd - windowStart).toBe(opts.durationMs);
    const { clockMaxOffsetMs, scanJitterMs } = sim.options.delivery;
    // every message checked, the ones that break a rule collected (one expect per rule and message made most of the test's time)
    const problems: string[] = [];
    let previous = -Infinity;
    for (const m of messages) {
      const at = `${m.topic} ${m.payload.mid ?? ''}`;
      if (m.payload.ts !== undefined && m.payload.ts !== m.ts) problems.push(`${at}: payload ts ${m.payload.ts}, ts ${m.ts}`);
      if (!(m.trueTs >= windowStart && m.trueTs <= windowEnd)) problems.push(`${at}: happened at ${m.trueTs}, outside the window`);
      if (!(m.sendAt >= m.trueTs && m.sendAt <= windowEnd)) problems.push(`${at}: sent at ${m.sendAt}, happened at ${m.trueTs}`);
      if (!(m.sendAt >= previous)) problems.push(`${at}: sent at ${m.sendAt}, before the previous message (${previous})`);
      if (!(Math.abs(m.ts - m.trueTs) <= clockMaxOffsetMs + scanJitterMs + 1)) problems.push(`${at}: stamped ${m.ts}, happened at ${m.trueTs}`);
      previous = m.sendAt;
    }
    expect(messages.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('brackets the run with a retained online and offline status per agent', () => {
    const agents = store.agents.length > 0 ? store.agents.map((a) => a.id) : ['sim-agent'];
    const statuses = messages.filter((m): m is Extract<SimMessage, { kind: 'status' }> => m.kind === 'status' && !m.outage);
    expect(statuses.map((m) => [m.sourceId, m.payload.state]).sort()).toEqual(
      agents
        .flatMap((a) => [
          [a, 'offline'],
          [a, 'online'],
        ])
        .sort(),
    );
    expect(messages.slice(0, agents.length).every((m) => m.kind === 'status' && m.payload.state === 'online')).toBe(true);
    expect(messages.slice(-agents.length).every((m) => m.kind === 'status' && m.payload.state === 'offline')).toBe(true);
  });

  it('counts published messages and points exactly as a recount over the wire bytes does', () => {
    const again = recount(messages, store, sim.options.topicPrefix, sim.window);
    expect(again.points).toEqual(truth.published.points);
    for (const [kind, n] of Object.entries(truth.published.messages)) expect(again.messages[kind] ?? 0, kind).toBe(n);
    expect(truth.publishedMessages).toBe(messages.length);
    expect(again.rejected).toEqual(truth.expectedRejections.byReason);
    // messages per kind and source, counted in one pass
    const perSource = new Map<string, number>();
    for (const m of messages) if (!m.duplicate) perSource.set(`${m.kind}/${m.sourceId}`, (perSource.get(`${m.kind}/${m.sourceId}`) ?? 0) + 1);
    let bySourcePoints = 0;
    for (const [kind, sources] of Object.entries(truth.published.bySource)) {
      for (const [sourceId, counts] of Object.entries(sources)) {
        expect(counts.messages, `${kind}/${sourceId}`).toBe(perSource.get(`${kind}/${sourceId}`) ?? 0);
        bySourcePoints += counts.points;
      }
    }
    const unlisted = store.agents.length === 0 ? 2 : 0; // the stand-in agent's two statuses
    expect(bySourcePoints).toBe(Object.values(truth.published.points).reduce((a, b) => a + b, 0));
    expect(truth.expectedRejections.byReason.source_unknown).toBe(unlisted);
  });

  it('has each counter report its messages, and know truly the visits that came in and went out', () => {
    const counts = new Map<string, { in: number; out: number }>();
    for (const m of messages) {
      // what the gateway accepts stamped inside the window (a skewed clock moves a report across its edge)
      if (m.kind !== 'device' || m.payload.event.type !== 'people_count' || m.duplicate || m.expectedRejection) continue;
      if (m.ts < truth.windowStart || m.ts > truth.windowEnd) continue;
      const c = counts.get(m.sourceId) ?? { in: 0, out: 0 };
      c.in += m.payload.event.in;
      c.out += m.payload.event.out;
      counts.set(m.sourceId, c);
    }
    const doorCounters = truth.footfall.filter((f) => f.zone === null || truth.floorPlan.entrances.includes(f.zone));
    expect(doorCounters.length).toBeGreaterThan(0);
    for (const f of truth.footfall) expect(counts.get(f.counter) ?? { in: 0, out: 0 }, f.counter).toEqual({ in: f.in, out: f.out });
    // the counter reports no more than truly passed (it misses group members, never invents anyone)
    for (const f of truth.footfall) expect([f.in <= f.trueIn, f.out <= f.trueOut], f.counter).toEqual([true, true]);
    const entered = truth.visits.filter((v) => v.enteredAt <= truth.windowEnd);
    for (const f of doorCounters) {
      const visits = entered.filter((v) => f.zone === null || v.path[0]?.zone === f.zone);
      expect(f.trueIn, f.counter).toBe(visits.length);
      expect(f.trueOut, f.counter).toBe(visits.filter((v) => v.leftAt !== null).length);
    }
    const all = truth.footfall.find((f) => f.zone === null) ?? doorCounters[0];
    if (all?.zone === null) expect(all.trueIn).toBe(entered.length);
    for (const f of truth.footfall.filter((x) => !doorCounters.includes(x))) {
      const stays = truth.visits.flatMap((v) => v.path.filter((s) => s.zone === f.zone));
      expect(f.trueIn, f.counter).toBe(stays.length);
    }
  });

  it('walks every visitor along the floor plan: in by a door, adjacent zones only, out by the same door', () => {
    const entrances = truth.floorPlan.entrances;
    for (const v of truth.visits) {
      const first = v.path[0];
      const last = v.path[v.path.length - 1];
      if (!first || !last) throw new Error(`${v.visitor} has no path`);
      expect(entrances).toContain(first.zone);
      expect(first.from).toBe(v.enteredAt);
      expect(v.enteredAt).toBeGreaterThan(truth.windowStart);
      expect(v.enteredAt).toBeLessThanOrEqual(truth.windowEnd);
      if (v.leftAt === null) expect(last.to).toBe(truth.windowEnd);
      else {
        expect(last.zone).toBe(first.zone);
        expect(last.to).toBe(v.leftAt);
        expect(v.leftAt).toBeLessThanOrEqual(truth.windowEnd);
      }
      v.path.forEach((seg, i) => {
        expect(seg.to).toBeGreaterThanOrEqual(seg.from);
        expect(truth.floorPlan.zones.find((z) => z.id === seg.zone)?.kind).not.toBe('backroom');
        if (i === 0) return;
        const prev = v.path[i - 1] as typeof seg;
        expect(seg.from).toBe(prev.to);
        expect(adjacency[prev.zone], `${v.visitor}: ${prev.zone} → ${seg.zone}`).toContain(seg.zone);
      });
    }
  });

  it('gives app users unique iBeacon ids that the scanners see only while they are inside (or passing by)', () => {
    const apps = hearables(truth).filter((v) => v.app);
    const byBeacon = new Map(apps.map((v) => [v.beacon as string, v]));
    expect(byBeacon.size).toBe(apps.length);
    for (const id of byBeacon.keys()) expect(id).toMatch(IBEACON_ID);
    expect(new Set([...byBeacon.keys()].map((id) => id.split(':')[1])).size).toBe(1); // one retailer app
    // the store's own beacons and the neighbours' (other shops' UUIDs)
    const fixed = new Set([...truth.floorPlan.beacons, ...(truth.neighbourBeacons ?? [])].map((b) => b.id));
    const problems: string[] = [];
    for (const m of messages) {
      if (m.kind !== 'ble') continue;
      for (const s of m.payload.sightings) {
        if (s.rssi < -95) problems.push(`${m.payload.mid}: ${s.rssi} dBm is below the sensitivity`);
        if (fixed.has(s.id)) continue;
        const v = byBeacon.get(s.id);
        if (!v) problems.push(`${m.payload.mid}: ${s.id} is nobody's`);
        else if (!heardAt(v, m.trueTs)) problems.push(`${m.payload.mid}: ${v.who} is not inside`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('hears app users loudest at the sensor of the zone they stand in, most of the time', () => {
    const sensorZone = new Map(truth.floorPlan.sensors.map((s) => [s.id, s.zone]));
    const visitorByBeacon = new Map(truth.visits.filter((v) => v.app).map((v) => [v.beacon as string, v]));
    const strongest = new Map<string, { rssi: number; sensor: string }>();
    for (const m of messages) {
      if (m.kind !== 'ble') continue;
      for (const s of m.payload.sightings) {
        const key = `${m.trueTs}|${s.id}`;
        const best = strongest.get(key);
        if (visitorByBeacon.has(s.id) && (!best || s.rssi > best.rssi)) strongest.set(key, { rssi: s.rssi, sensor: m.sourceId });
      }
    }
    let hits = 0;
    let total = 0;
    for (const [key, best] of strongest) {
      const [ts, id] = key.split('|') as [string, string];
      const v = visitorByBeacon.get(id);
      const zone = v?.path.find((seg) => seg.from <= Number(ts) && Number(ts) < seg.to)?.zone;
      if (!zone || ![...sensorZone.values()].includes(zone)) continue;
      total += 1;
      if (sensorZone.get(best.sensor) === zone) hits += 1;
    }
    expect(total).toBeGreaterThan(100);
    expect(hits / total).toBeGreaterThan(0.5);
  });

  it('rotates the pseudonyms of randomised MACs and keeps the others stable', () => {
    const owner = new Map<string, Hearable>();
    for (const v of hearables(truth)) {
      for (const p of v.wifiPseudonyms) {
        expect(owner.has(p), p).toBe(false);
        owner.set(p, v);
      }
    }
    for (const v of truth.visits) {
      if (!v.phone) expect(v.wifiPseudonyms).toEqual([]);
      else if (!v.randomizedMac) expect(v.wifiPseudonyms).toHaveLength(1);
      for (const p of v.wifiPseudonyms) expect(p).toMatch(PSEUDONYM_PATTERN);
    }
    const longRandomised = truth.visits.filter((v) => v.randomizedMac && (v.leftAt ?? truth.windowEnd) - v.enteredAt > 10 * 60_000);
    expect(longRandomised.length).toBeGreaterThan(0);
    for (const v of longRandomised) expect(v.wifiPseudonyms.length, v.visitor).toBeGreaterThan(1);
    const seenPerVisitor = new Map<string, Set<string>>();
    const problems: string[] = [];
    for (const m of messages) {
      if (m.kind !== 'wifi') continue;
      for (const o of m.payload.observations) {
        const v = owner.get(o.id);
        if (!v) {
          problems.push(`${m.payload.mid}: ${o.id} is nobody's`);
          continue;
        }
        if (o.randomized !== v.randomizedMac) problems.push(`${m.payload.mid}: randomized flag of ${v.who}`);
        if (!heardAt(v, m.trueTs)) problems.push(`${m.payload.mid}: ${v.who} is not inside`);
        const seen = seenPerVisitor.get(v.who) ?? new Set<string>();
        seen.add(o.id);
        seenPerVisitor.set(v.who, seen);
      }
    }
    expect(problems).toEqual([]);
    const rotatedOnAir = [...seenPerVisitor.values()].filter((ids) => ids.size > 1).length;
    expect(rotatedOnAir).toBeGreaterThan(0);
  });

  it('sends a touchpoint message for each interaction of the truth, made while the visitor stood in its zone', () => {
    // without delivery effects: one message per interaction, in order (loss and resends are tested in delivery.int.test.ts);
    // interactions are drawn before any scan and the street, so that run needs neither (the first expect checks they are the same)
    const ideal = buildSimulation({ ...opts, delivery: IDEAL_DELIVERY_OPTIONS, scanIntervalMs: 300_000, captureRate: 1, neighbourBeacons: 0 });
    expect(ideal.truth.interactions).toEqual(truth.interactions);
    // the consent choices go out beside the interactions (consents.int.test.ts, crm-truth.test.ts)
    const sent = ideal.messages.filter((m) => m.kind === 'touchpoint' && !isConsentMessage(m));
    expect(sent.map((m) => m.ts)).toEqual(truth.interactions.map((i) => i.ts));
    const zoneOf = new Map(store.touchpoints.map((t) => [t.id, t.zone]));
    const visits = new Map(truth.visits.map((v) => [v.visitor, v]));
    truth.interactions.forEach((i, k) => {
      const m = sent[k] as Extract<SimMessage, { kind: 'touchpoint' }>;
      expect(m.sourceId).toBe(i.touchpoint);
      expect({
        action: m.payload.action,
        visitor: m.payload.visitor,
        beacon: m.payload.beacon,
        customer: m.payload.customer,
        value: m.payload.value,
      }).toEqual({
        action: i.action,
        visitor: i.visitor,
        beacon: i.beacon,
        customer: i.customer,
        value: i.value,
      });
      const v = visits.get(i.visit);
      expect(
        v?.path.some((s) => s.zone === zoneOf.get(i.touchpoint) && s.from <= i.ts && i.ts < s.to),
        `${i.visit} at ${i.touchpoint}`,
      ).toBe(true);
      expect(i.visitor).toBe(v?.appPseudonym);
      // app users' interactions carry the beacon id their phone advertises; anyone else's stay anonymous
      expect(i.beacon).toBe(v?.beacon);
      if (!v?.app) expect({ visitor: m.payload.visitor, beacon: m.payload.beacon, customer: m.payload.customer }).toEqual({});
      if (i.customer !== undefined) expect(i.customer).toBe(v?.customer);
      if (i.action === 'feedback') expect([1, 2, 3, 4, 5]).toContain(i.value);
    });
  });
});

describe('time window', () => {
  it('ends now with speed 0 and at now + D/S with speed S, never stamping an event after it is published', () => {
    const durationMs = 10 * 60_000;
    const fast = buildSimulation(options({ speed: 0, durationMs }));
    expect([fast.truth.windowStart, fast.truth.windowEnd]).toEqual([NOW - durationMs, NOW]);
    for (const speed of [1, 7, 60, 3600]) {
      const sim = buildSimulation(options({ speed, durationMs }));
      expect(sim.truth.windowEnd - sim.truth.windowStart).toBe(durationMs);
      expect(sim.truth.windowEnd).toBeLessThanOrEqual(NOW + durationMs / speed);
      expect(sim.truth.windowEnd).toBeGreaterThan(NOW + durationMs / speed - 1);
      // every message checked, the ones that break a rule collected (one expect per rule and message made most of the test's time)
      const problems: string[] = [];
      for (const m of sim.messages) {
        const publishedAt = publishTimeFor(sim.window, m.sendAt);
        if (!(m.trueTs <= publishedAt)) problems.push(`${m.topic}: happened at ${m.trueTs}, published at ${publishedAt}`);
        if (!(publishedAt - m.trueTs <= durationMs)) problems.push(`${m.topic}: published ${publishedAt - m.trueTs} ms after it happened`);
        if (!(publishedAt >= NOW)) problems.push(`${m.topic}: published at ${publishedAt}, before now`);
      }
      expect(sim.messages.length, `speed ${speed}`).toBeGreaterThan(0);
      expect(problems, `speed ${speed}`).toEqual([]);
    }
  });
});

describe('bad messages', () => {
  // 20 minutes: some 2,000 messages, a fifth of them with something bad injected
  const clean = buildSimulation(options({ seed: 21, badRate: 0, durationMs: 20 * 60_000 }));
  const dirty = buildSimulation(options({ seed: 21, badRate: 0.2, durationMs: 20 * 60_000 }));

  it('injects every reason, recorded apart from the published points', () => {
    const { injected } = dirty.truth;
    for (const reason of INJECTION_REASONS) expect(injected.byReason[reason], reason).toBeGreaterThan(0);
    const recounted = recount(dirty.messages, dirty.options.store, dirty.options.topicPrefix, dirty.window);
    expect(recounted.rejected).toEqual(injected.byReason);
    expect(recounted.points).toEqual(dirty.truth.published.points);
    expect(dirty.truth.expectedRejections).toEqual(injected);
    expect(dirty.truth.publishedMessages).toBe(clean.truth.publishedMessages + injected.messages);
  });

  it('leaves the good traffic as it is without injection (a bad sighting rides along in a good batch)', () => {
    expect(dirty.truth.published).toEqual(clean.truth.published);
    const stripped = accepted(dirty).map((m) => {
      if (m.kind !== 'ble') return messageBody(m);
      return JSON.stringify({ ...m.payload, sightings: m.payload.sightings.filter((s) => s.rssi <= 20) });
    });
    expect(stripped).toEqual(clean.messages.map(messageBody));
    const batches = dirty.messages.filter((m) => m.injected?.reason === 'items_invalid');
    for (const m of batches) {
      const decoded = decodeMessage('ble', JSON.parse(messageBody(m)));
      expect(decoded.ok && decoded.itemRejections.length).toBe(1);
      expect(decoded.ok && decoded.message.sightings.length).toBeGreaterThan(0);
    }
  });

  it('never touches a retained status', () => {
    expect(dirty.messages.filter((m) => m.kind === 'status' || m.retain).every((m) => m.injected === undefined)).toBe(true);
  });
});

describe('options', () => {
  it.each([
    ['speed', { speed: 0.5 }],
    ['durationMs', { durationMs: 10 }],
    ['durationMs', { durationMs: MAX_DURATION_MS + 1 }],
    ['appShare', { appShare: 1.5 }],
    ['seed', { seed: -1 }],
    ['scanIntervalMs', { scanIntervalMs: 100 }],
    ['topicPrefix', { topicPrefix: 'a/+/b' }],
    ['store.zones', { store: { ...StoreSchema.parse(DEMO_STORE), zones: [] } }],
  ] as Array<[string, Partial<SimulationOptions>]>)('rejects a bad %s and names it', (key, bad) => {
    const attempt = () => buildSimulation(options(bad));
    expect(attempt).toThrow(SimulationOptionsError);
    expect(attempt).toThrow(new RegExp(`${key.replace('.', '\\.')}:`));
  });

  it('accepts the defaults as they are', () => {
    const sim = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, now: NOW });
    expect(sim.truth.options).toMatchObject({
      seed: 1,
      durationMs: 3_600_000,
      speed: 0,
      visitorsPerHour: 120,
      appShare: 0.3,
      scanIntervalMs: 5000,
      badRate: 0,
    });
    expect(sim.truth.storeId).toBe('demo-store');
  });
});

describe('arrivals', () => {
  /** The arrivals only: no street (passers-by are a stream of their own) and the slowest scans the options allow (visitors are drawn before any scan). */
  const VISITORS_ONLY = { captureRate: 1, neighbourBeacons: 0, scanIntervalMs: 300_000 } as const;

  it('follow visitorsPerHour on average (flat profile)', () => {
    const sim = buildSimulation(options({ visitorsPerHour: 300, durationMs: 4 * 3_600_000, ...VISITORS_ONLY }));
    expect(sim.truth.visits.length).toBeGreaterThan(1100);
    expect(sim.truth.visits.length).toBeLessThan(1300);
  });

  it('follow the daily profile: nobody comes while the store is closed', () => {
    const night = Date.UTC(2025, 5, 14, 1, 0, 0); // 03:00 in Paris
    const evening = Date.UTC(2025, 5, 14, 16, 0, 0); // 18:00 in Paris
    expect(buildSimulation(options({ now: night, arrivalProfile: 'daily', durationMs: 3_600_000, ...VISITORS_ONLY })).truth.visits).toHaveLength(0);
    expect(buildSimulation(options({ now: evening, arrivalProfile: 'daily', durationMs: 3_600_000, ...VISITORS_ONLY })).truth.visits.length).toBeGreaterThan(
      100,
    );
  });

  it('share app users and phones as asked', () => {
    const { visits } = buildSimulation(
      options({ visitorsPerHour: 2000, durationMs: 3_600_000, appShare: 0.3, randomizedMacShare: 0.7, ...VISITORS_ONLY }),
    ).truth;
    const share = (f: (v: GroundTruth['visits'][number]) => boolean) => visits.filter(f).length / visits.length;
    expect(share((v) => v.app)).toBeCloseTo(0.3, 1);
    expect(share((v) => v.phone)).toBeGreaterThan(0.88);
    expect(share((v) => v.randomizedMac) / share((v) => v.phone)).toBeCloseTo(0.7, 1);
    expect(visits.filter((v) => v.customer !== undefined).every((v) => v.app && /^C-\d{6}$/.test(v.customer ?? ''))).toBe(true);
  });
});
