/**
 * What an MQTT identity may do: the topic ACL. Pure functions of the identity and the topic, so every
 * rule is unit-tested on its own (mqtt-grants.test.ts) and the broker only asks.
 *
 * | role      | publishes                                                   | subscribes                         |
 * |-----------|-------------------------------------------------------------|------------------------------------|
 * | device    | `{prefix}/{store}/{kind}/{source}`: its own source only     | nothing                            |
 * | agent     | its own status, and the sources of its store it forwards for| its own config topic only          |
 * | publisher | data of any source of its stores (simulator, bench, bridges)| nothing                            |
 * | operator  | anything of its stores, agent config included               | any filter inside its stores       |
 *
 * No identity subscribes to `$`-topics ($SYS lists every client id); the broker refuses those before
 * asking. Anonymous clients, when `mqtt.auth.anonymous` allows them, are publishers of every store.
 */
import { CONFIG_LEVEL } from '../../protocol/index.js';

export const MQTT_ROLES = ['device', 'agent', 'publisher', 'operator'] as const;
export type MqttRole = (typeof MQTT_ROLES)[number];

/** `'*'`: every store (or source) the config has, now and later. */
export type Scope = '*' | readonly string[];

export interface MqttGrant {
  role: MqttRole;
  stores: Scope;
  /** device: its source id; agent: its agent id (its config topic and its own status); else null. */
  source: string | null;
  /** agent: the sources of its store it forwards for; others: '*' (unused). */
  forwards: Scope;
}

/** Why a publish or subscribe was refused (a label of storeloop_mqtt_denied_total). */
export type Denial = 'other_store' | 'other_source' | 'config_not_operator' | 'subscribe_not_allowed' | 'filter_outside_stores';

/** What an installer reads about a denial. */
export const DENIAL_TEXT: Record<Denial, string> = {
  other_store: 'the store is not granted to it',
  other_source: 'the source is not its own (nor one it forwards for)',
  config_not_operator: 'only operator identities publish agent config',
  subscribe_not_allowed: 'its role subscribes to nothing but, for an agent, its own config topic',
  filter_outside_stores: 'the filter reaches beyond the stores granted to it',
};

function inScope(scope: Scope, id: string): boolean {
  return scope === '*' || scope.includes(id);
}

/** May this identity publish on `{prefix}/{store}/{kind}/{source}` (kind `config`: an agent's remote config)? */
export function publishDenial(grant: MqttGrant, storeId: string, kind: string, sourceId: string): Denial | null {
  if (!inScope(grant.stores, storeId)) return 'other_store';
  if (kind === CONFIG_LEVEL) return grant.role === 'operator' ? null : 'config_not_operator';
  switch (grant.role) {
    case 'device':
      return sourceId === grant.source ? null : 'other_source';
    case 'agent':
      return sourceId === grant.source || inScope(grant.forwards, sourceId) ? null : 'other_source';
    case 'publisher':
    case 'operator':
      return null;
  }
}

/**
 * May this identity subscribe to `filter`? An agent only to its own config topic (exactly); an operator
 * to filters that stay inside its stores (the store level must be one of them, literally, unless the
 * operator has every store); devices and publishers to nothing.
 */
export function subscribeDenial(grant: MqttGrant, prefix: string, filter: string): Denial | null {
  switch (grant.role) {
    case 'device':
    case 'publisher':
      return 'subscribe_not_allowed';
    case 'agent': {
      const stores = grant.stores;
      const own = stores !== '*' && stores.length === 1 && grant.source !== null ? `${prefix}/${stores[0]}/${CONFIG_LEVEL}/${grant.source}` : null;
      return filter === own ? null : 'subscribe_not_allowed';
    }
    case 'operator': {
      if (grant.stores === '*') return null;
      const head = `${prefix}/`;
      if (!filter.startsWith(head)) return 'filter_outside_stores';
      const storeLevel = filter.slice(head.length).split('/')[0] ?? '';
      return grant.stores.includes(storeLevel) ? null : 'filter_outside_stores';
    }
  }
}

/** The single store an identity is bound to (a device's or agent's), for the per-store connection cap. */
export function boundStore(grant: MqttGrant): string | null {
  return grant.stores !== '*' && grant.stores.length === 1 ? (grant.stores[0] ?? null) : null;
}

/** What anonymous clients may do when `mqtt.auth.anonymous` is on (for trying storeloop out, never in a store). */
export const ANONYMOUS_GRANT: MqttGrant = { role: 'publisher', stores: '*', source: null, forwards: '*' };
