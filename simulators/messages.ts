/**
 * The simulator's messages: a payload per contract kind (typed by the protocol's input schemas),
 * where and when it goes, and whether it was made malformed on purpose.
 */
import type { z } from 'zod';

import { buildTopic, CONTRACT_VERSION, isConsentAction, type MESSAGE_KIND_TABLE, type MessageKind } from '../protocol/index.js';

/** The payload a source writes for each kind (before the contract's defaults are applied). */
export type PayloadByKind = { [K in MessageKind]: z.input<(typeof MESSAGE_KIND_TABLE)[K]['schema']> };

/**
 * Why a message (or one item of a batch) is malformed on purpose, named like the gateway's rejection
 * reasons: `json_invalid` (truncated JSON), `source_unknown` (a source id the store does not have),
 * `ts_in_future` (stamped a day ahead), `items_invalid` (one sighting with an RSSI over +20 dBm in a good batch).
 */
export const INJECTION_REASONS = ['json_invalid', 'source_unknown', 'ts_in_future', 'items_invalid'] as const;
export type InjectionReason = (typeof INJECTION_REASONS)[number];

export interface Injection {
  reason: InjectionReason;
  /** `message`: the whole message is bad; `item`: `badItems` items of an otherwise good batch are. */
  scope: 'message' | 'item';
  badItems: number;
}

interface SimMessageOf<K extends MessageKind> {
  topic: string;
  kind: K;
  storeId: string;
  sourceId: string;
  payload: PayloadByKind[K];
  /** The time the source stamped (epoch ms, its clock: true time plus its offset; sensor-clocks.ts); `payload.ts` when it has one. */
  ts: number;
  /** When the event truly happened (epoch ms). */
  trueTs: number;
  /** When the message goes on the wire (simulated epoch ms, never before `trueTs` nor after the window; delivery.ts). */
  sendAt: number;
  /** A second copy of a message already sent (same mid, a resend after a lost PUBACK): the gateway drops it as a duplicate. */
  duplicate?: true;
  /** An agent's status about an uplink outage (not its opening or closing status). */
  outage?: true;
  /** The gateway rejects this message although it is well-formed: its clock is too far ahead (ts_in_future). */
  expectedRejection?: 'ts_in_future';
  qos: 0 | 1;
  retain: boolean;
  /** The exact text published instead of JSON.stringify(payload) (a deliberately broken message). */
  text?: string;
  injected?: Injection;
}

/** One MQTT message of a simulation run. */
export type SimMessage = { [K in MessageKind]: SimMessageOf<K> }[MessageKind];

/** A message before it has a topic and a message id. */
export type DraftMessage = {
  [K in MessageKind]: Omit<
    SimMessageOf<K>,
    'topic' | 'storeId' | 'qos' | 'text' | 'injected' | 'trueTs' | 'sendAt' | 'duplicate' | 'outage' | 'expectedRejection'
  > & {
    rank: number;
  };
}[MessageKind];

/** Order of messages that share a timestamp: online status first, offline status last. */
export const RANK_FIRST = 0;
export const RANK_NORMAL = 1;
export const RANK_LAST = 2;

/** The bytes that go on the wire. */
export function messageBody(message: SimMessage): string {
  return message.text ?? JSON.stringify(message.payload);
}

/** `<sourceId>-<runId>-<seq>` */
export function messageId(sourceId: string, runId: string, seq: number | string): string {
  return `${sourceId}-${runId}-${seq}`;
}

export interface FinaliseParams {
  topicPrefix: string;
  storeId: string;
  runId: string;
  qos: 0 | 1;
  /**
   * Put before each sequence number of the message ids (`kiosk-1-<runId>-consent1`): messages finalised
   * apart from the others (consents) count on their own, so the others keep their ids.
   */
  midTag?: string;
}

/** Drafts in publishing order: by time, rank breaking ties, stable (the order given breaks the rest). */
export function sortDrafts(drafts: readonly DraftMessage[]): DraftMessage[] {
  return drafts
    .map((draft, order) => ({ draft, order }))
    .sort((a, b) => a.draft.ts - b.draft.ts || a.draft.rank - b.draft.rank || a.order - b.order)
    .map(({ draft }) => draft);
}

/** Gives drafts, taken in publishing order, their topic and a message id whose sequence number counts up per source. */
export class MessageFinaliser {
  private readonly seqBySource = new Map<string, number>();

  constructor(private readonly params: FinaliseParams) {}

  finalise(draft: DraftMessage): SimMessage {
    const { params } = this;
    // source ids are unique across a store's sensors, touchpoints, devices and agents (config schema)
    const seq = (this.seqBySource.get(draft.sourceId) ?? 0) + 1;
    this.seqBySource.set(draft.sourceId, seq);
    const { rank: _rank, ...rest } = draft;
    // the spread keeps each draft's kind and payload together; TypeScript cannot follow that through a union
    return {
      ...rest,
      topic: buildTopic(params.topicPrefix, { storeId: params.storeId, kind: draft.kind, sourceId: draft.sourceId }),
      storeId: params.storeId,
      qos: params.qos,
      trueTs: draft.ts,
      sendAt: draft.ts,
      payload: {
        v: CONTRACT_VERSION,
        mid: messageId(draft.sourceId, params.runId, params.midTag === undefined ? seq : `${params.midTag}${seq}`),
        ...draft.payload,
      },
    } as SimMessage;
  }
}

/**
 * Sorts drafts by time (stable, rank breaks ties), then gives each its topic and a message id whose
 * sequence number counts up per source in publishing order.
 */
export function finaliseMessages(drafts: DraftMessage[], params: FinaliseParams): SimMessage[] {
  const finaliser = new MessageFinaliser(params);
  return sortDrafts(drafts).map((draft) => finaliser.finalise(draft));
}

/** A touchpoint's consent choice (`consent_granted` / `consent_withdrawn`, consents.ts): on streams of its own in delivery and never made malformed. */
export function isConsentMessage(message: SimMessage): boolean {
  return message.kind === 'touchpoint' && isConsentAction(message.payload.action);
}
