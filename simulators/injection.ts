/**
 * Deliberately malformed traffic for demoing rejections (`badRate`). After a good message, with
 * probability badRate, one of: a truncated JSON copy, a copy from a source the store does not know,
 * a copy stamped a day in the future, or (for a BLE batch with sightings) one extra sighting with an
 * out-of-range RSSI inside the otherwise good batch. Reasons are named like the gateway's rejections. Statuses, consent choices and resent copies (`duplicate`) are never touched.
 * Uses its own random stream, so the good traffic is the same whatever the bad rate.
 */
import { buildTopic } from '../protocol/index.js';
import { isConsentMessage, messageId, type InjectionReason, type SimMessage } from './messages.js';
import type { Rng } from './prng.js';

/** How far in the future a `ts_in_future` copy is stamped. */
export const FUTURE_OFFSET_MS = 24 * 3_600_000;

export interface InjectionParams {
  badRate: number;
  topicPrefix: string;
  runId: string;
  /** Every source id the store knows (an unknown source must not be one of them). */
  knownSources: ReadonlySet<string>;
}

/** The messages with malformed ones mixed in (a new array; good messages other than mutated BLE batches are untouched). */
export function injectBadMessages(messages: readonly SimMessage[], params: InjectionParams, rng: Rng): SimMessage[] {
  if (params.badRate <= 0) return [...messages];
  const injector = new BadMessageInjector(params, rng);
  return messages.flatMap((m) => injector.inject(m));
}

/** injectBadMessages one message at a time (messages in publishing order). */
export class BadMessageInjector {
  private readonly seqBySource = new Map<string, number>();

  constructor(
    private readonly params: InjectionParams,
    private readonly rng: Rng,
  ) {}

  /** The message (perhaps with a bad item added) and its malformed companion, if it gets one. */
  inject(message: SimMessage): SimMessage[] {
    const { params, rng } = this;
    // consent choices neither: they draw nothing, so the other messages' companions stay as they were without them
    if (params.badRate <= 0 || message.kind === 'status' || message.duplicate || isConsentMessage(message) || !rng.chance(params.badRate)) return [message];
    const reasons: InjectionReason[] = ['json_invalid', 'source_unknown', 'ts_in_future'];
    if (message.kind === 'ble' && message.payload.sightings.length > 0) reasons.push('items_invalid');
    const reason = rng.pick(reasons);
    if (reason === 'items_invalid' && message.kind === 'ble') {
      const bad = { id: `dev:${rng.hex(16)}`, rssi: rng.int(21, 60) }; // the contract allows at most +20 dBm
      return [
        { ...message, payload: { ...message.payload, sightings: [...message.payload.sightings, bad] }, injected: { reason, scope: 'item', badItems: 1 } },
      ];
    }
    return [message, companion(message, reason, params, rng, (source) => this.nextSeq(source))];
  }

  private nextSeq(source: string): number {
    const seq = (this.seqBySource.get(source) ?? 0) + 1;
    this.seqBySource.set(source, seq);
    return seq;
  }
}

function companion(message: SimMessage, reason: InjectionReason, params: InjectionParams, rng: Rng, nextSeq: (source: string) => number): SimMessage {
  const injected = { reason, scope: 'message' as const, badItems: 0 };
  const badMid = (source: string) => messageId(source, params.runId, `bad${nextSeq(source)}`);
  switch (reason) {
    case 'source_unknown': {
      const sourceId = unknownSource(message.kind, rng, params.knownSources);
      const topic = buildTopic(params.topicPrefix, { storeId: message.storeId, kind: message.kind, sourceId });
      return { ...message, topic, sourceId, retain: false, payload: { ...message.payload, mid: badMid(sourceId) }, injected } as SimMessage;
    }
    case 'ts_in_future':
      return {
        ...message,
        retain: false,
        payload: { ...message.payload, ts: message.ts + FUTURE_OFFSET_MS, mid: badMid(message.sourceId) },
        injected,
      } as SimMessage;
    default: {
      const payload = { ...message.payload, mid: badMid(message.sourceId) };
      const text = JSON.stringify(payload);
      // any proper prefix of a JSON object's text is invalid JSON: its closing brace is missing
      return { ...message, retain: false, payload, text: text.slice(0, Math.max(1, Math.floor(text.length * rng.uniform(0.3, 0.9)))), injected } as SimMessage;
    }
  }
}

function unknownSource(kind: string, rng: Rng, known: ReadonlySet<string>): string {
  for (;;) {
    const id = `ghost-${kind}-${rng.hex(2)}`;
    if (!known.has(id)) return id;
  }
}
