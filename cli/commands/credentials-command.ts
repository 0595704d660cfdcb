/**
 * `storeloop credentials`: the MQTT identities of a gateway (its state dir, from the config): add one
 * with a generated secret (shown once), list them, rotate a secret, revoke. Works while the gateway
 * runs: the gateway sees the change within a second and closes the connections of a revoked or
 * rotated identity.
 */
import { join } from 'node:path';

import { loadConfig, type Config } from '../../config/index.js';
import type { MqttRole, Scope } from '../../gateway/auth/mqtt-grants.js';
import { checkIdentityAgainstStores, MqttIdentityStore, viewOf, type MqttIdentity } from '../../gateway/auth/mqtt-identities.js';
import { secretKeyPath } from '../../gateway/auth/secrets.js';
import { buildTopic } from '../../protocol/index.js';

export interface CredentialsCliOptions {
  config?: string;
  json?: boolean;
}

export interface AddOptions extends CredentialsCliOptions {
  role: MqttRole;
  store?: string[];
  source?: string;
  name?: string;
  forwards?: string;
  certificate?: boolean;
  secret?: boolean;
}

/** The identity store of the gateway that this config describes. */
export function openIdentityStore(config: Config): MqttIdentityStore {
  const store = new MqttIdentityStore(join(config.state.dir, 'mqtt-identities.sqlite'), secretKeyPath(config.state));
  store.open();
  return store;
}

function scopeOf(values: string[] | undefined): Scope {
  if (values === undefined || values.length === 0) return [];
  const list = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return list.includes('*') ? '*' : list;
}

function describe(identity: MqttIdentity): string {
  const stores = identity.stores === '*' ? 'every store' : `store ${identity.stores.join(', ')}`;
  const own = identity.source === null ? '' : `; source ${identity.source}`;
  const fwd = identity.role === 'agent' ? `; forwards for ${identity.forwards === '*' ? 'every source of its store' : identity.forwards.join(', ')}` : '';
  return `${identity.name} (${identity.role}; ${stores}${own}${fwd})`;
}

function exampleTopic(config: Config, identity: MqttIdentity): string {
  const store = identity.stores === '*' ? (config.stores[0]?.id ?? 'STORE') : (identity.stores[0] ?? 'STORE');
  const kind = identity.role === 'operator' ? 'config' : 'status';
  const source = identity.source ?? 'SOURCE';
  return kind === 'config'
    ? `${config.mqtt.topicPrefix}/${store}/config/AGENT`
    : buildTopic(config.mqtt.topicPrefix, { storeId: store, kind, sourceId: source });
}

export function runCredentialsAdd(opts: AddOptions, out: NodeJS.WritableStream = process.stdout): void {
  const config = loadConfig(opts.config);
  const stores = scopeOf(opts.store);
  const forwards = opts.forwards === undefined ? undefined : scopeOf([opts.forwards]);
  checkIdentityAgainstStores(config.stores, { role: opts.role, stores, source: opts.source ?? null, forwards });
  const store = openIdentityStore(config);
  try {
    const { identity, secret } = store.add({
      name: opts.name,
      role: opts.role,
      stores,
      source: opts.source,
      forwards,
      certificate: opts.certificate,
      noSecret: opts.secret === false,
    });
    if (opts.json === true) {
      out.write(`${JSON.stringify({ identity: viewOf(identity), username: identity.name, password: secret })}\n`);
      return;
    }
    out.write(`added ${describe(identity)}\n`);
    out.write(`  MQTT user name: ${identity.name}\n`);
    if (secret !== null) {
      out.write(`  MQTT password:  ${secret}\n`);
      out.write('  The password is shown once and stored only as a keyed hash: give it to the device now.\n');
      out.write(
        `  Try it: mosquitto_pub -h ${config.mqtt.host} -p ${config.mqtt.port} -u '${identity.name}' -P '${secret}' -q 1 -t ${exampleTopic(config, identity)} -m '{...}'\n`,
      );
    }
    if (identity.certificate) out.write(`  A client certificate with subject CN=${identity.name}, signed by mqtt.tls.caFile, also authenticates it.\n`);
  } finally {
    store.close();
  }
}

export function runCredentialsList(opts: CredentialsCliOptions, out: NodeJS.WritableStream = process.stdout): void {
  const store = openIdentityStore(loadConfig(opts.config));
  try {
    const identities = store.list();
    if (opts.json === true) {
      out.write(`${JSON.stringify(identities.map(viewOf))}\n`);
      return;
    }
    if (identities.length === 0) out.write('no MQTT identities yet: storeloop credentials add --help\n');
    for (const identity of identities) {
      const state = identity.revokedAt === null ? 'active' : `revoked ${new Date(identity.revokedAt).toISOString()}`;
      out.write(`${describe(identity)}  ${state}${identity.certificate ? '  certificate' : ''}\n`);
    }
  } finally {
    store.close();
  }
}

export function runCredentialsRotate(name: string, opts: CredentialsCliOptions, out: NodeJS.WritableStream = process.stdout): void {
  const store = openIdentityStore(loadConfig(opts.config));
  try {
    const { identity, secret } = store.rotate(name);
    if (opts.json === true) {
      out.write(`${JSON.stringify({ identity: viewOf(identity), username: identity.name, password: secret })}\n`);
      return;
    }
    out.write(`new secret for ${describe(identity)}\n  MQTT password:  ${secret}\n`);
    out.write('  The old secret no longer works; a running gateway closes its connections within a second.\n');
  } finally {
    store.close();
  }
}

export function runCredentialsRevoke(name: string, opts: CredentialsCliOptions, out: NodeJS.WritableStream = process.stdout): void {
  const store = openIdentityStore(loadConfig(opts.config));
  try {
    const identity = store.revoke(name);
    if (opts.json === true) {
      out.write(`${JSON.stringify({ identity: viewOf(identity) })}\n`);
      return;
    }
    out.write(`revoked ${describe(identity)}: a running gateway closes its connections within a second\n`);
  } finally {
    store.close();
  }
}
