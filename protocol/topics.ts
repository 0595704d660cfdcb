/**
 * MQTT topics of the wire contract: `{prefix}/{storeId}/{kind}/{sourceId}`.
 * Build and parse topics here, never by string concatenation at call sites.
 */
import { z } from 'zod';

import { containsMacAddress } from './identifiers.js';

export const MESSAGE_KINDS = ['ble', 'wifi', 'device', 'touchpoint', 'status'] as const;
export const MessageKindSchema = z.enum(MESSAGE_KINDS);
export type MessageKind = z.infer<typeof MessageKindSchema>;

export const DEFAULT_TOPIC_PREFIX = 'storeloop';

/** Store, source and zone ids: short, URL- and topic-safe, no MQTT wildcards or separators. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const EntityIdSchema = z.string().regex(ID_PATTERN, 'expected 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit');

export interface TopicParts {
  storeId: string;
  kind: MessageKind;
  sourceId: string;
}

export type TopicParseResult = ({ ok: true } & TopicParts) | { ok: false; reason: 'topic_invalid' | 'topic_unknown_kind'; detail: string };

/** Builds the topic a source publishes on. Throws on ids that the contract does not allow. */
export function buildTopic(prefix: string, parts: TopicParts): string {
  for (const [name, value] of [
    ['storeId', parts.storeId],
    ['sourceId', parts.sourceId],
  ] as const) {
    if (!ID_PATTERN.test(value)) throw new Error(`invalid ${name} '${value}' for an MQTT topic (${ID_PATTERN})`);
  }
  return `${prefix}/${parts.storeId}/${parts.kind}/${parts.sourceId}`;
}

/** A subscription filter for every contract topic (optionally of one store). */
export function topicFilter(prefix: string, storeId = '+'): string {
  return `${prefix}/${storeId}/+/+`;
}

/** True when the topic is under the contract's prefix (and so must follow the contract). */
export function isContractTopic(prefix: string, topic: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** Parses a contract topic; the caller has checked `isContractTopic`. */
export function parseTopic(prefix: string, topic: string): TopicParseResult {
  const rest = topic.slice(prefix.length + 1);
  const levels = rest.split('/');
  if (levels.length !== 3) {
    return { ok: false, reason: 'topic_invalid', detail: `expected ${prefix}/{storeId}/{kind}/{sourceId}, got ${levels.length + 1} levels` };
  }
  const [storeId, kind, sourceId] = levels as [string, string, string];
  if (!ID_PATTERN.test(storeId)) return { ok: false, reason: 'topic_invalid', detail: invalidIdDetail('store id', storeId) };
  if (!ID_PATTERN.test(sourceId)) return { ok: false, reason: 'topic_invalid', detail: invalidIdDetail('source id', sourceId) };
  const parsedKind = MessageKindSchema.safeParse(kind);
  if (!parsedKind.success) {
    return { ok: false, reason: 'topic_unknown_kind', detail: `unknown kind '${kind.slice(0, 40)}', expected one of ${MESSAGE_KINDS.join(', ')}` };
  }
  return { ok: true, storeId, kind: parsedKind.data, sourceId };
}

/**
 * Why a store or source id in a topic that holds a MAC address is refused. The address itself is not
 * repeated: it is personal data, and the detail reaches logs and the API.
 */
export function macAddressIdDetail(name: 'store id' | 'source id'): string {
  return `the ${name} is a MAC address: device ids are personal data; pseudonymise at the source and publish under a ${name} of the gateway config`;
}

function invalidIdDetail(name: 'store id' | 'source id', id: string): string {
  return containsMacAddress(id) ? macAddressIdDetail(name) : `invalid ${name} '${id.slice(0, 70)}'`;
}

/**
 * Control topics: `{prefix}/{storeId}/config/{agentId}` carries an edge agent's remote config,
 * published retained by an operator. The gateway checks the target and forwards it; it is not data.
 */
export const CONFIG_LEVEL = 'config';

export function buildConfigTopic(prefix: string, storeId: string, agentId: string): string {
  for (const [name, value] of [
    ['storeId', storeId],
    ['agentId', agentId],
  ] as const) {
    if (!ID_PATTERN.test(value)) throw new Error(`invalid ${name} '${value}' for an MQTT topic (${ID_PATTERN})`);
  }
  return `${prefix}/${storeId}/${CONFIG_LEVEL}/${agentId}`;
}

/** The store and agent of a config topic, or undefined when the topic is not one. */
export function parseConfigTopic(prefix: string, topic: string): { storeId: string; agentId: string } | undefined {
  if (!isContractTopic(prefix, topic)) return undefined;
  const levels = topic.slice(prefix.length + 1).split('/');
  if (levels.length !== 3 || levels[1] !== CONFIG_LEVEL) return undefined;
  const [storeId, , agentId] = levels as [string, string, string];
  return ID_PATTERN.test(storeId) && ID_PATTERN.test(agentId) ? { storeId, agentId } : undefined;
}
