/**
 * The ingest pipeline: topic → size → store layout → JSON → schema → time window → dedup → event
 * slot → event log. Each step is a pure function elsewhere; this module orders them, counts every
 * outcome and records rejections. It never throws on bad input. What it accepts is appended to the
 * event log; sinks (InfluxDB, later the experience engine and the CRM) take it from there.
 */
import { createHash } from 'node:crypto';

import {
  AgentConfigMessageSchema,
  CONFIG_LEVEL,
  formatZodError,
  parseConfigTopic,
  decodePayload,
  decodeMessage,
  epochSecondsHint,
  isContractTopic,
  parseTopic,
  type DeviceEvent,
  type ItemRejection,
  type KindedMessage,
  type MessageByKind,
  type MessageKind,
} from '../../protocol/index.js';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import { UNKNOWN_LABEL, type GatewayMetrics } from '../metrics.js';
import type { LiveState } from '../live/live-state.js';
import { payloadExcerpt, type RejectionLog, type Rejection, type RejectionReason } from './rejection.js';
import { isRejection, type ResolvedSource, type StoreDirectory } from './store-directory.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import type { Ledger } from './ledger.js';
import { LogFullError } from '../log/event-log.js';
import { itemCount, LOG_RECORD_VERSION, type LogEntry, type LoggedKindedMessage, type LoggedMessage } from '../log/log-record.js';
import { midKey, type MessageIndex } from '../log/message-index.js';
import { DENIAL_TEXT, publishDenial, type MqttGrant } from '../auth/mqtt-grants.js';

/** Where accepted messages go: resolves with the log seq once the append is fsynced (gateway/log). */
export interface AcceptedLog {
  /** `messageJson`: JSON.stringify(entry.message), when the caller made it already. */
  append(entry: LogEntry<MessageKind>, options: { bestEffort?: boolean; messageJson?: string }): Promise<number>;
}

/** Replaces a CRM customer id with its opaque token (gateway/identity). */
export interface CustomerTokens {
  tokenFor(customer: string): string;
}

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  clientId: string | null;
  /** Epoch ms the gateway received the message. */
  receivedAt: number;
  /** MQTT QoS: 0 is best effort and may be shed under overload. */
  qos: number;
  /** The PUBLISH's retain flag: with an empty payload, it clears the topic's retained message. */
  retain?: boolean;
  /**
   * Who published it, as the broker authenticated them: checked against the topic (mqtt-grants.ts).
   * Absent: not checked (the gateway's own messages, and tests of the pipeline alone).
   */
  publisher?: { name: string | null; grant: MqttGrant };
}

export type IngestOutcome =
  | {
      status: 'accepted';
      storeId: string;
      kind: MessageKind;
      items: number;
      itemRejections: ItemRejection[];
      /** Resolves with the log seq once the message is durable in the event log. */
      logged: Promise<number>;
      /** What MQTT subscribers receive instead of the raw bytes: the validated message, without the CRM customer id. */
      forwardPayload: Buffer;
    }
  /** A resend of an accepted mid: `logged` resolves once the first copy is durable. */
  | { status: 'duplicate'; storeId: string; kind: MessageKind; logged: Promise<number> }
  | { status: 'rejected'; rejection: Rejection }
  /** A control message (an agent's remote config, a retained-message clear): checked and passed on, not stored. */
  | { status: 'forwarded'; storeId: string }
  /** Valid, but the gateway could not log it (an internal failure): not acknowledged, not forwarded. */
  | { status: 'failed'; storeId: string; kind: MessageKind; error: Error };

export interface IngestDeps {
  config: Config;
  directory: StoreDirectory;
  eventLog: AcceptedLog;
  index: MessageIndex;
  customerTokens: CustomerTokens;
  metrics: GatewayMetrics;
  log: Logger;
  rejections: RejectionLog;
  ledger: Ledger;
  live?: LiveState;
}

/**
 * Subscribers get the message as validated: unknown keys and rejected items are gone, and the CRM
 * customer id (personal data, for consented CRM forwarding only) and its token are removed. `ts` is
 * the event time (an offline status is stamped on arrival). Usually that is the logged message as it
 * is, so its JSON is reused.
 */
function forwardPayload(logged: LoggedMessage<MessageKind>, messageJson: string, eventTimeMs: number): Buffer {
  if ('customerToken' in logged) {
    const { customerToken: _token, ...rest } = logged;
    return Buffer.from(JSON.stringify({ ...rest, ts: eventTimeMs }));
  }
  if (logged.ts === eventTimeMs) return Buffer.from(messageJson);
  return Buffer.from(JSON.stringify({ ...logged, ts: eventTimeMs }));
}

/** Device event types and the device types allowed to send them (environment: any device). */
const DEVICE_EVENT_SOURCES: Record<DeviceEvent['type'], string | null> = { people_count: 'people_counter', shelf: 'smart_shelf', environment: null };

/** What the pipeline does differently for each kind: a new kind is an entry here the compiler demands. */
interface KindIngest<K extends MessageKind> {
  /** The event time the payload carries, or undefined when the gateway stamps the message on arrival. */
  payloadTime(message: MessageByKind[K]): number | undefined;
  /** Why this source may not send this message, beyond the roles the store directory checks. */
  checkSource(message: MessageByKind[K], source: ResolvedSource): Rejection | undefined;
  /** The message as it enters the log: personal references replaced (gateway/identity). */
  toLogged(message: MessageByKind[K], tokens: CustomerTokens): LoggedMessage<K>;
}

const anySource = (): undefined => undefined;
const asIs = <M>(message: M): M => message;

const KIND_INGEST: { [K in MessageKind]: KindIngest<K> } = {
  ble: { payloadTime: (m) => m.ts, checkSource: anySource, toLogged: asIs },
  wifi: { payloadTime: (m) => m.ts, checkSource: anySource, toLogged: asIs },
  device: { payloadTime: (m) => m.ts, checkSource: checkDeviceEvent, toLogged: asIs },
  touchpoint: { payloadTime: (m) => m.ts, checkSource: anySource, toLogged: tokeniseCustomer },
  // a last will is written when the device connects: an offline status is stamped when it arrives (and one without ts)
  status: { payloadTime: (m) => (m.state === 'offline' ? undefined : m.ts), checkSource: anySource, toLogged: asIs },
};

function checkDeviceEvent({ event }: MessageByKind['device'], source: ResolvedSource): Rejection | undefined {
  const allowed = DEVICE_EVENT_SOURCES[event.type];
  if (allowed && source.type !== allowed) {
    return {
      reason: 'source_kind_mismatch',
      detail: `device '${source.sourceId}' (${source.type ?? 'unknown'}) may not send '${event.type}' events (only ${allowed})`,
    };
  }
  return undefined;
}

/** A touchpoint's CRM customer id becomes its opaque token: the id never enters the log. */
function tokeniseCustomer({ customer, ...rest }: MessageByKind['touchpoint'], tokens: CustomerTokens): LoggedMessage<'touchpoint'> {
  if (customer === undefined) return rest;
  return { ...rest, customerToken: tokens.tokenFor(customer) };
}

// One generic step per column of KIND_INGEST: called with any kind's message, each uses the row of that kind.
function payloadTime<K extends MessageKind>(accepted: KindedMessage<K>): number | undefined {
  return KIND_INGEST[accepted.kind].payloadTime(accepted.message);
}

function checkSource<K extends MessageKind>(accepted: KindedMessage<K>, source: ResolvedSource): Rejection | undefined {
  return KIND_INGEST[accepted.kind].checkSource(accepted.message, source);
}

function toLogged<K extends MessageKind>(accepted: KindedMessage<K>, tokens: CustomerTokens): LoggedKindedMessage<K> {
  return { kind: accepted.kind, message: KIND_INGEST[accepted.kind].toLogged(accepted.message, tokens) };
}

export class IngestPipeline {
  private readonly prefix: string;
  private readonly rejectionLog: RateLimitedLog;

  constructor(private readonly deps: IngestDeps) {
    this.prefix = deps.config.mqtt.topicPrefix;
    this.rejectionLog = new RateLimitedLog(deps.log, 10_000);
  }

  /** Validates one MQTT message and appends it to the event log. */
  handle(msg: IncomingMessage): IngestOutcome {
    const control = parseConfigTopic(this.prefix, msg.topic);
    if (control) return this.handleConfig(msg, control.storeId, control.agentId);
    const { config, directory, metrics, ledger } = this.deps;
    const topic = isContractTopic(this.prefix, msg.topic)
      ? parseTopic(this.prefix, msg.topic)
      : ({ ok: false, reason: 'topic_outside_prefix', detail: `topics must start with '${this.prefix}/'` } as const);
    const storeLabel = topic.ok && directory.hasStore(topic.storeId) ? topic.storeId : UNKNOWN_LABEL;
    const kindLabel = topic.ok ? topic.kind : UNKNOWN_LABEL;
    metrics.messagesReceived.inc({ store: storeLabel, kind: kindLabel });
    ledger.receive(storeLabel, kindLabel);
    if (!topic.ok) return this.reject(msg, null, null, { reason: topic.reason, detail: topic.detail });
    const { storeId, kind, sourceId } = topic;
    const denied = this.checkPublisher(msg, storeId, kind, sourceId);
    if (denied) return this.reject(msg, storeLabel, kind, denied);

    if (msg.payload.length > config.mqtt.maxPayloadBytes) {
      return this.reject(msg, storeLabel, kind, { reason: 'payload_too_large', detail: `${msg.payload.length} bytes > ${config.mqtt.maxPayloadBytes}` });
    }
    const source = directory.resolve(storeId, kind, sourceId);
    if (isRejection(source)) return this.reject(msg, storeLabel, kind, source);
    if (msg.retain === true && msg.payload.length === 0) {
      // [MQTT-3.3.1-10]: a retained zero-byte message clears the topic's retained message (a retained data
      // message published before data messages lost their retain flag, a stale status); nothing is logged
      ledger.move(storeId, kind, 'held', 'forwarded');
      return { status: 'forwarded', storeId };
    }

    const json = decodePayload(msg.payload);
    if (!json.ok) return this.reject(msg, storeLabel, kind, json);
    const decoded = decodeMessage(kind, json.value);
    if (!decoded.ok) return this.reject(msg, storeLabel, kind, decoded);
    const { itemRejections } = decoded;

    const sourceCheck = checkSource(decoded, source);
    if (sourceCheck) return this.reject(msg, storeLabel, kind, sourceCheck);

    const stampedAt = payloadTime(decoded);
    const eventTimeMs = stampedAt ?? msg.receivedAt;
    const window = this.checkWindow(eventTimeMs, msg.receivedAt);
    if (window) return this.reject(msg, storeLabel, kind, window);

    // Without a mid, the payload bytes stand in for it when they carry the event time: a resend of the
    // same bytes is the same event. Not when the event time is the arrival (a last will, a ts-less
    // status): the same bytes then stand for a new event each time.
    const { mid } = decoded.message;
    const payloadHash = mid === undefined && stampedAt !== undefined ? `#sha1:${createHash('sha1').update(msg.payload).digest('base64url')}` : undefined;
    const dedupId = mid ?? payloadHash;
    const publisher = msg.publisher?.name ?? undefined;
    const dedupKey = dedupId === undefined ? undefined : midKey(storeId, kind, sourceId, dedupId, publisher);
    const first = dedupKey === undefined ? undefined : this.deps.index.find(dedupKey);
    if (first !== undefined) {
      metrics.messagesDuplicate.inc({ store: storeId, kind });
      ledger.move(storeId, kind, 'held', 'duplicate');
      return { status: 'duplicate', storeId, kind, logged: Promise.resolve(first) };
    }

    metrics.messagesAccepted.inc({ store: storeId, kind });
    if (itemRejections.length > 0) {
      metrics.itemsRejected.inc({ store: storeId, kind }, itemRejections.length);
      this.record(msg, storeId, kind, {
        reason: 'items_invalid',
        detail: `${itemRejections.length} item(s) rejected, the others kept: ${itemRejections
          .map((r) => r.detail)
          .join('; ')
          .slice(0, 300)}`,
      });
    }
    let logged: LoggedKindedMessage<MessageKind>;
    try {
      logged = toLogged(decoded, this.deps.customerTokens);
    } catch (err) {
      // the identity vault could not store a token: not acknowledged, the publisher resends
      ledger.move(storeId, kind, 'held', 'rejected', 'internal_error');
      this.deps.log.error({ err, store: storeId, kind }, 'message could not be logged');
      return { status: 'failed', storeId, kind, error: err instanceof Error ? err : new Error(String(err)) };
    }
    const items = itemCount(logged);
    const entry: LogEntry<MessageKind> = {
      v: LOG_RECORD_VERSION,
      ...logged,
      source,
      eventTime: eventTimeMs,
      receivedAt: msg.receivedAt,
      mid: mid ?? null,
      ...(payloadHash === undefined ? {} : { payloadHash }),
      qos: msg.qos === 0 ? 0 : 1,
      ...(publisher === undefined ? {} : { publisher }),
      slot: this.deps.index.allocateSlot(storeId, kind, sourceId, eventTimeMs, items),
    };
    const messageJson = JSON.stringify(logged.message);
    const durable = this.append(entry, messageJson, msg.qos, dedupKey);
    return {
      status: 'accepted',
      storeId,
      kind,
      items,
      itemRejections,
      logged: durable,
      forwardPayload: forwardPayload(logged.message, messageJson, eventTimeMs),
    };
  }

  /**
   * Appends the entry; settles the ledger. The message index and the live state learn of it only
   * once the append has resolved: what they count is durable.
   */
  private append(entry: LogEntry<MessageKind>, messageJson: string, qos: number, dedupKey: string | undefined): Promise<number> {
    const { index, ledger, live, metrics } = this.deps;
    const { storeId } = entry.source;
    const { kind } = entry;
    const logged = this.deps.eventLog.append(entry, { bestEffort: qos === 0, messageJson });
    if (dedupKey !== undefined) index.track(dedupKey, logged);
    logged.then(
      (seq) => {
        index.committed(entry, seq, dedupKey);
        ledger.move(storeId, kind, 'held', 'logged');
        live?.recordLogged(entry);
      },
      (err: unknown) => {
        const reason = err instanceof LogFullError ? String(err.context.reason) : 'log_write_failed';
        if (reason === 'backpressure') metrics.backpressure.inc();
        if (qos === 0) ledger.move(storeId, kind, 'held', 'shed');
        else ledger.move(storeId, kind, 'held', 'rejected', reason === 'backpressure' || reason === 'stopping' ? 'backpressure' : reason);
        metrics.messagesShedOrRefused.inc({ store: storeId, kind, reason: qos === 0 ? 'shed' : reason });
      },
    );
    return logged;
  }

  /** An agent's remote config: the agent must exist; the payload must be a JSON object (the agent validates the rest). */
  private handleConfig(msg: IncomingMessage, storeId: string, agentId: string): IngestOutcome {
    const { directory, metrics, ledger, config } = this.deps;
    const storeLabel = directory.hasStore(storeId) ? storeId : UNKNOWN_LABEL;
    metrics.messagesReceived.inc({ store: storeLabel, kind: CONFIG_LEVEL });
    ledger.receive(storeLabel, CONFIG_LEVEL);
    const reject = (rejection: Rejection): IngestOutcome => {
      metrics.messagesRejected.inc({ store: storeLabel, kind: CONFIG_LEVEL, reason: rejection.reason });
      ledger.move(storeLabel, CONFIG_LEVEL, 'held', 'rejected', rejection.reason);
      this.record(msg, storeLabel === UNKNOWN_LABEL ? null : storeLabel, null, rejection);
      return { status: 'rejected', rejection };
    };
    const denied = this.checkPublisher(msg, storeId, CONFIG_LEVEL, agentId);
    if (denied) return reject(denied);
    if (msg.payload.length > config.mqtt.maxPayloadBytes)
      return reject({ reason: 'payload_too_large', detail: `${msg.payload.length} bytes > ${config.mqtt.maxPayloadBytes}` });
    const source = directory.resolve(storeId, 'status', agentId);
    if (isRejection(source)) return reject(source);
    if (source.role !== 'agent') return reject({ reason: 'source_kind_mismatch', detail: `config is for agents; '${agentId}' is a ${source.role}` });
    if (msg.payload.length === 0) {
      // [MQTT-3.3.1-10]: a retained zero-byte message clears the retained config
      ledger.move(storeId, CONFIG_LEVEL, 'held', 'forwarded');
      return { status: 'forwarded', storeId };
    }
    const json = decodePayload(msg.payload);
    if (!json.ok) return reject(json);
    const parsed = AgentConfigMessageSchema.safeParse(json.value);
    if (!parsed.success) return reject({ reason: 'schema_invalid', detail: formatZodError(parsed.error) });
    ledger.move(storeId, CONFIG_LEVEL, 'held', 'forwarded');
    return { status: 'forwarded', storeId };
  }

  /** The topic ACL: may this message's publisher publish on its topic? Denials are counted by reason. */
  private checkPublisher(msg: IncomingMessage, storeId: string, kind: string, sourceId: string): Rejection | undefined {
    if (msg.publisher === undefined) return undefined;
    const { name, grant } = msg.publisher;
    const denial = publishDenial(grant, storeId, kind, sourceId);
    if (denial === null) return undefined;
    this.deps.metrics.mqttDenied.inc({ action: 'publish', reason: denial });
    const who = name === null ? `an anonymous ${grant.role}` : `identity '${name}' (${grant.role})`;
    return { reason: 'not_authorized', detail: `${who} may not publish on this topic: ${DENIAL_TEXT[denial]}` };
  }

  private checkWindow(eventTimeMs: number, now: number): Rejection | undefined {
    const { maxPastSeconds, maxFutureSeconds } = this.deps.config.ingest;
    if (eventTimeMs < now - maxPastSeconds * 1000) {
      const at = new Date(eventTimeMs).toISOString();
      const hint = epochSecondsHint(eventTimeMs);
      const detail =
        hint === undefined
          ? `ts ${at} is more than ${maxPastSeconds} s before the gateway's clock`
          : `${hint}; as milliseconds it is ${at}, more than ${maxPastSeconds} s before the gateway's clock`;
      return { reason: 'ts_too_old', detail };
    }
    if (eventTimeMs > now + maxFutureSeconds * 1000) {
      return { reason: 'ts_in_future', detail: `ts ${new Date(eventTimeMs).toISOString()} is more than ${maxFutureSeconds} s after the gateway's clock` };
    }
    return undefined;
  }

  private reject(msg: IncomingMessage, storeLabel: string | null, kind: MessageKind | null, rejection: Rejection): IngestOutcome {
    this.deps.metrics.messagesRejected.inc({ store: storeLabel ?? UNKNOWN_LABEL, kind: kind ?? UNKNOWN_LABEL, reason: rejection.reason });
    this.deps.ledger.move(storeLabel ?? UNKNOWN_LABEL, kind ?? UNKNOWN_LABEL, 'held', 'rejected', rejection.reason);
    this.record(msg, storeLabel, kind, rejection);
    return { status: 'rejected', rejection: { reason: rejection.reason, detail: rejection.detail } };
  }

  private record(msg: IncomingMessage, store: string | null, kind: MessageKind | typeof CONFIG_LEVEL | null, rejection: Rejection): void {
    const record = {
      time: new Date(msg.receivedAt).toISOString(),
      clientId: msg.clientId,
      topic: payloadExcerpt(msg.topic, 200),
      store,
      kind,
      reason: rejection.reason as RejectionReason,
      detail: payloadExcerpt(rejection.detail, 400),
      excerpt: payloadExcerpt(msg.payload),
    };
    this.deps.rejections.add(record);
    this.rejectionLog.warn(record.reason, { reason: record.reason, store, kind, topic: record.topic, detail: record.detail }, 'message rejected');
  }
}
