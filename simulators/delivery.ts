/**
 * How messages reach the broker: each data message takes a log-normal latency (sometimes a stall),
 * a few never arrive (lossRate) and a few go out twice with the same mid (duplicateRate: a resend
 * after a lost PUBACK, which the gateway's dedup drops). Edge agents lose their uplink now and then
 * (outagesPerAgentDay) or when a scenario says so (`offline` faults): the traffic of the agent's
 * sources is then buffered and replayed in order at the outage's end with its original ts, or lost.
 * Every message gets `sendAt`, the simulated instant it goes on the wire, in [trueTs, window end];
 * the result is in `sendAt` order. Agent status and will messages are never lost, delayed or doubled.
 * Streams: createRng(seed, 'delivery-loss' | 'delivery-duplicate' | 'delivery-latency' | 'outages', …).
 * Consent choices (consents.ts) draw from streams of their own ('consent-delivery-…') and are left out
 * of the counts and of the replay slots of the other messages, so those go out exactly as they would
 * without them; a consent held by an outage goes out in its place in the agent's queue.
 */
import type { StoreConfig } from '../config/index.js';
import { buildTopic, CONTRACT_VERSION } from '../protocol/index.js';
import { MAX_OUTAGE_MS, type DeliveryOptions, type SourceFault } from './delivery-options.js';
import type { Footfall } from './devices.js';
import { isConsentMessage, messageId, type PayloadByKind, type SimMessage } from './messages.js';
import { createRng } from './prng.js';
import { publishTimeFor, type SimulationWindow } from './schedule.js';
import { agentOf, faultTargets, type ClockTruth, type SensorClocks } from './sensor-clocks.js';
import { agentIds, SIMULATOR_VERSION } from './status.js';

/** A resend after a lost PUBACK goes out this long after the first copy (uniform; MQTT.js resends on reconnect). */
export const RESEND_MIN_MS = 1000;
export const RESEND_MAX_MS = 20_000;
/** A reconnecting agent replays its buffer at 100 messages per second. */
export const REPLAY_GAP_MS = 10;
/** The broker publishes an agent's will 1.5 keep-alives (60 s) after its uplink went: shorter outages go unnoticed. */
export const WILL_DELAY_MS = 90_000;
/** The gateway's default `ingest.maxFutureSeconds`, in ms: a message stamped further ahead is rejected (ts_in_future). */
export const GATEWAY_MAX_FUTURE_MS = 300_000;

/** One uplink outage, epoch ms. */
export interface OutageTruth {
  /** The agent that lost its uplink (absent: a fault naming sources only). */
  agent?: string;
  /** Every source whose traffic it held. */
  sourceIds: string[];
  from: number;
  to: number;
  /** `random`: the default outage process; `fault`: an explicit `offline` fault. */
  cause: 'random' | 'fault';
  replay: boolean;
  /** Messages held and replayed at min(to, window end). */
  replayed: number;
  /** Messages lost (an outage without replay). */
  lost: number;
}

/** What the delivery model did to a run's traffic. */
export interface DeliveryTruth {
  /** Data messages that never went on the wire (random loss and outages without replay). */
  lost: number;
  /** Second copies put on the wire (same mid; the gateway drops them). */
  duplicated: number;
  /** Messages that went out after a later-stamped (true time) message of the same source. */
  reordered: number;
  /** Messages held by an outage and replayed late. */
  replayed: number;
  /** Longest sendAt − trueTs of a delivered first copy, ms. */
  maxDelayMs: number;
  /** Every source's clock: stamped ts = trueTs + clip(offsetMs + driftPpm·1e-6·(trueTs − windowStart)) (+ clock_skew faults). */
  clocks: Record<string, ClockTruth>;
  outages: OutageTruth[];
  /** Parallel to the truth's `interactions`: the ts its touchpoint stamped, and whether the gateway accepted its message (not lost, not rejected). */
  interactions: Array<{ stampedTs: number; delivered: boolean }>;
}

export interface DeliveryParams {
  seed: number;
  store: StoreConfig;
  runId: string;
  topicPrefix: string;
  startMs: number;
  endMs: number;
  delivery: DeliveryOptions;
  sourceFaults: readonly SourceFault[];
  clocks: SensorClocks;
}

/** An outage while it holds its sources' traffic. */
export interface Held extends OutageTruth {
  targets: ReadonlySet<string>;
  buffer: SimMessage[];
  /** Consent choices held (counted apart: `replayed`, `lost` and the agent's `queue_depth` are the other messages'). */
  consentBuffer: SimMessage[];
}

type StatusMessage = Extract<SimMessage, { kind: 'status' }>;

interface Entry {
  message: SimMessage;
  /** 0: an online status, 1: everything else, 2: the closing offline status. */
  tier: number;
  ord: number;
}

/** The random uplink outages of every agent, then the explicit `offline` faults. */
export function planOutages(params: DeliveryParams): Held[] {
  const { seed, store, startMs, endMs, delivery } = params;
  const out: Held[] = [];
  const all = [...store.sensors, ...store.touchpoints, ...store.devices].map((s) => s.id).concat(agentIds(store));
  if (delivery.outagesPerAgentDay > 0) {
    const meanGapMs = 86_400_000 / delivery.outagesPerAgentDay;
    for (const agent of agentIds(store)) {
      const rng = createRng(seed, 'outages', agent);
      for (let t = startMs + rng.exponential(meanGapMs); t < endMs;) {
        const from = Math.round(t);
        const to = from + Math.round(Math.min(MAX_OUTAGE_MS, Math.max(1000, rng.exponential(delivery.outageMeanMs))));
        const replay = rng.chance(delivery.outageReplayShare);
        const sourceIds = all.filter((id) => agentOf(store, id) === agent);
        out.push({ agent, sourceIds, from, to, cause: 'random', replay, replayed: 0, lost: 0, targets: new Set(sourceIds), buffer: [], consentBuffer: [] });
        t = to + rng.exponential(meanGapMs);
      }
    }
  }
  for (const fault of params.sourceFaults) {
    if (fault.kind !== 'offline') continue;
    const targets = faultTargets(store, fault);
    const agent = fault.sourceIds.find((id) => agentIds(store).includes(id));
    const held: Held = {
      ...(agent !== undefined ? { agent } : {}),
      sourceIds: [...targets],
      from: startMs + fault.from,
      to: startMs + fault.to,
      cause: 'fault',
      replay: fault.replay,
      replayed: 0,
      lost: 0,
      targets,
      buffer: [],
      consentBuffer: [],
    };
    out.push(held);
  }
  return out;
}

/** The messages (true-time order) as they go on the wire, in `sendAt` order, and what happened to them. */
export function deliverMessages(
  messages: readonly SimMessage[],
  params: DeliveryParams,
): { messages: SimMessage[]; truth: Omit<DeliveryTruth, 'interactions'> } {
  const { seed, endMs, delivery } = params;
  const streams = { loss: createRng(seed, 'delivery-loss'), dup: createRng(seed, 'delivery-duplicate'), latency: createRng(seed, 'delivery-latency') };
  const consentStreams = {
    loss: createRng(seed, 'consent-delivery-loss'),
    dup: createRng(seed, 'consent-delivery-duplicate'),
    latency: createRng(seed, 'consent-delivery-latency'),
  };
  const outages = planOutages(params);
  const entries: Entry[] = [];
  let ord = 0;
  const push = (message: SimMessage, tier = 1) => entries.push({ message, tier, ord: ord++ });
  let lost = 0;
  let duplicated = 0;
  for (const m of messages) {
    if (m.kind === 'status') {
      push(m, m.payload.state === 'online' ? 0 : m.trueTs >= endMs ? 2 : 1);
      continue;
    }
    const consent = isConsentMessage(m);
    // the counts are the other messages': a consent's fate is in the truth's `crm`
    const counted = consent ? 0 : 1;
    const outage = outages.find((o) => o.targets.has(m.sourceId) && m.trueTs >= o.from && m.trueTs < o.to);
    if (outage) {
      if (outage.replay) (consent ? outage.consentBuffer : outage.buffer).push(m);
      else {
        outage.lost += counted;
        lost += counted;
      }
      continue;
    }
    const rng = consent ? consentStreams : streams;
    if (rng.loss.chance(delivery.lossRate)) {
      lost += counted;
      continue;
    }
    let latency = delivery.latencyMedianMs > 0 ? rng.latency.logNormal(delivery.latencyMedianMs, delivery.latencySigma) : 0;
    if (rng.latency.chance(delivery.stallShare)) latency += rng.latency.uniform(0, delivery.stallMaxMs);
    const sendAt = Math.min(endMs, m.trueTs + Math.round(latency));
    push({ ...m, sendAt });
    if (rng.dup.chance(delivery.duplicateRate)) {
      duplicated += counted;
      push({ ...m, sendAt: Math.min(endMs, sendAt + Math.round(rng.dup.uniform(RESEND_MIN_MS, RESEND_MAX_MS))), duplicate: true });
    }
  }
  let replayed = 0;
  for (const [k, outage] of outages.entries()) {
    const replayAt = Math.min(outage.to, endMs);
    if (outage.agent !== undefined) for (const status of outageStatuses(outage, k, params)) push(status, status.payload.state === 'online' ? 0 : 1);
    const buffer = [...outage.buffer].sort((a, b) => a.trueTs - b.trueTs);
    const consents = [...outage.consentBuffer].sort((a, b) => a.trueTs - b.trueTs);
    let c = 0;
    buffer.forEach((m, i) => {
      const slot = Math.min(endMs, replayAt + i * REPLAY_GAP_MS);
      // a held consent goes out in its place in the queue: in the slot of the first message that truly came after it, just before it
      for (; c < consents.length && (consents[c] as SimMessage).trueTs < m.trueTs; c += 1) push({ ...(consents[c] as SimMessage), sendAt: slot });
      push({ ...m, sendAt: slot });
    });
    // the rest after the last replayed message, ahead of what queued behind the replay
    const tail = Math.min(endMs, replayAt + Math.max(0, buffer.length * REPLAY_GAP_MS - REPLAY_GAP_MS / 2));
    for (; c < consents.length; c += 1) push({ ...(consents[c] as SimMessage), sendAt: tail });
    outage.replayed = buffer.length;
    replayed += buffer.length;
    if (buffer.length > 0) queueBehindReplay(entries, outage, Math.min(endMs, replayAt + buffer.length * REPLAY_GAP_MS));
  }
  entries.sort((a, b) => a.message.sendAt - b.message.sendAt || a.tier - b.tier || a.ord - b.ord);
  const ordered = entries.map((e) => e.message);
  const others = ordered.filter((m) => !isConsentMessage(m));
  return {
    messages: ordered,
    truth: {
      lost,
      duplicated,
      reordered: countReordered(others),
      replayed,
      maxDelayMs: others.reduce((max, m) => (m.duplicate || m.outage ? max : Math.max(max, m.sendAt - m.trueTs)), 0),
      clocks: params.clocks.truth(),
      outages: outages.map(({ targets: _t, buffer: _b, consentBuffer: _c, ...o }) => o),
    },
  };
}

/** The agent's queue is FIFO: what its sources make while it drains the replay goes out after it (a resent copy too). */
function queueBehindReplay(entries: Entry[], outage: Held, drainedAt: number): void {
  for (const e of entries) {
    const m = e.message;
    if (m.kind !== 'status' && outage.targets.has(m.sourceId) && m.trueTs >= outage.to && m.sendAt < drainedAt) e.message = { ...m, sendAt: drainedAt };
  }
}

/** An agent's will when the broker notices the lost uplink, and its `online` status with the queue it is about to replay. */
export function outageStatuses(outage: Held, k: number, params: DeliveryParams): StatusMessage[] {
  const { store, runId, topicPrefix, endMs, clocks } = params;
  const agent = outage.agent as string;
  const topic = buildTopic(topicPrefix, { storeId: store.id, kind: 'status', sourceId: agent });
  const base = { topic, kind: 'status' as const, storeId: store.id, sourceId: agent, qos: 1 as const, retain: true, outage: true as const };
  const out: StatusMessage[] = [];
  const willAt = outage.from + WILL_DELAY_MS;
  if (willAt < Math.min(outage.to, endMs)) {
    // the broker publishes the will written at connect time: no ts, the gateway stamps its arrival
    const payload: PayloadByKind['status'] = {
      v: CONTRACT_VERSION,
      mid: messageId(agent, runId, `outage${k + 1}-will`),
      state: 'offline',
      detail: 'connection lost',
    };
    out.push({ ...base, ts: willAt, trueTs: willAt, sendAt: willAt, payload });
  }
  if (outage.to < endMs) {
    const ts = clocks.stamp(agent, outage.to);
    const payload: PayloadByKind['status'] = {
      v: CONTRACT_VERSION,
      mid: messageId(agent, runId, `outage${k + 1}-online`),
      ts,
      state: 'online',
      version: SIMULATOR_VERSION,
      queue_depth: outage.replay ? outage.buffer.length : 0,
      clock_synced: clocks.synced(agent),
      detail: 'uplink restored',
    };
    out.push({ ...base, ts, trueTs: outage.to, sendAt: outage.to, payload });
  }
  return out;
}

/** Messages (first copies) sent after a message of the same source that truly happened later. */
export function countReordered(messages: readonly SimMessage[]): number {
  const latest = new Map<string, number>();
  let reordered = 0;
  for (const m of messages) {
    if (m.duplicate) continue;
    const seen = latest.get(m.sourceId);
    if (seen !== undefined && m.trueTs < seen) reordered += 1;
    else latest.set(m.sourceId, m.trueTs);
  }
  return reordered;
}

/**
 * Flags the well-formed messages a gateway with the default `maxFutureSeconds` rejects as ts_in_future:
 * stamped more than 5 min after the real instant they are published at. (At speed 0 everything goes
 * out at the window's end; a stamp within seconds of the limit depends on how long publishing takes.)
 */
export function markFutureRejections(messages: readonly SimMessage[], window: SimulationWindow): SimMessage[] {
  return messages.map((m) => markFutureRejection(m, window));
}

/** markFutureRejections of one message. */
export function markFutureRejection(m: SimMessage, window: SimulationWindow): SimMessage {
  if (m.injected?.scope === 'message' || !('ts' in m.payload) || m.payload.ts === undefined) return m;
  return m.ts > publishTimeFor(window, m.sendAt) + GATEWAY_MAX_FUTURE_MS ? { ...m, expectedRejection: 'ts_in_future' as const } : m;
}

/**
 * The footfall as an analyst reading the window sees it: `in`/`out` summed over the people-count
 * messages the gateway accepts (first copies that arrive) stamped inside [startMs, endMs]. A lost
 * message's people are missing, like a counter's misses; a skewed clock moves a report across the
 * window's edge.
 */
export function deliveredFootfall(footfall: readonly Footfall[], messages: readonly SimMessage[], startMs: number, endMs: number): Footfall[] {
  const tally = new FootfallTally(footfall, startMs, endMs);
  for (const m of messages) tally.add(m);
  return tally.footfall();
}

/** deliveredFootfall one message at a time. */
export class FootfallTally {
  private readonly sums: Map<string, { in: number; out: number }>;

  constructor(
    private readonly counters: readonly Footfall[],
    private readonly startMs: number,
    private readonly endMs: number,
  ) {
    this.sums = new Map(counters.map((f) => [f.counter, { in: 0, out: 0 }]));
  }

  add(m: SimMessage): void {
    if (m.kind !== 'device' || m.payload.event.type !== 'people_count' || m.duplicate || m.expectedRejection || m.injected?.scope === 'message') return;
    if (m.ts < this.startMs || m.ts > this.endMs) return;
    const sum = this.sums.get(m.sourceId);
    if (!sum) return;
    sum.in += m.payload.event.in;
    sum.out += m.payload.event.out;
  }

  footfall(): Footfall[] {
    return this.counters.map((f) => ({ ...f, ...(this.sums.get(f.counter) ?? { in: 0, out: 0 }) }));
  }
}

/**
 * Per touchpoint message of `clocked` (the stamped messages before delivery, in the order of the
 * truth's interactions), its stamp and whether the gateway accepts it among the final `messages`.
 */
export function interactionDelivery(clocked: readonly SimMessage[], messages: readonly SimMessage[]): DeliveryTruth['interactions'] {
  const accepted = new Set(
    messages.filter((m) => m.kind === 'touchpoint' && !m.duplicate && !m.expectedRejection && m.injected?.scope !== 'message').map((m) => m.payload.mid),
  );
  return clocked.flatMap((m) => (m.kind === 'touchpoint' ? [{ stampedTs: m.ts, delivered: accepted.has(m.payload.mid) }] : []));
}
