/**
 * Who a connection is: aedes' `authenticate` hook. A CONNECT names an identity (its user name) and
 * proves it with the identity's secret (its password), or with a verified client certificate whose
 * subject CN is the identity's name (TLS listeners). Without either it is refused, unless
 * `mqtt.auth.anonymous` lets anonymous clients publish (for trying storeloop out).
 *
 * Also here, because they need the identity: a client id is taken over only by the identity that owns
 * it (the one connected under it, or the one whose persistent session it is); at most
 * `mqtt.limits.maxConnectionsPerStore` connections of identities bound to one store; and revocation:
 * when an identity is revoked or its secret rotated (by the API, or by `storeloop credentials` in
 * another process: the store's data_version is watched), its connections are closed at once.
 */
import type { Client } from 'aedes';

import type { Logger } from '../../lib/logger.js';
import { maskClientId } from '../ingest/redact.js';
import { ANONYMOUS_GRANT, boundStore, type MqttGrant } from '../auth/mqtt-grants.js';
import type { MqttIdentity, MqttIdentityStore } from '../auth/mqtt-identities.js';

/** Why a CONNECT was refused (a label of storeloop_mqtt_refused_total). */
export type ConnectRefusal = 'bad_credentials' | 'no_credentials' | 'client_id_taken' | 'too_many_connections_for_store' | 'too_many_connections_for_identity';

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3). */
const RETURN_CODE: Record<ConnectRefusal, 2 | 3 | 4 | 5> = {
  client_id_taken: 2,
  too_many_connections_for_store: 3,
  too_many_connections_for_identity: 3,
  bad_credentials: 4,
  no_credentials: 5,
};

/** The identity a connection authenticated as. `name` null: anonymous. */
export interface ConnectionIdentity {
  name: string | null;
  grant: MqttGrant;
  generation: number;
  store: string | null;
}

export interface MqttAuthenticatorOptions {
  store: MqttIdentityStore;
  anonymous: boolean;
  maxConnectionsPerStore: number;
  /** Open connections one identity may hold (a stolen device secret cannot fill its store's share). */
  maxConnectionsPerIdentity: number;
  log: Logger;
  /** The verified client certificate's subject CN of a TLS connection (null: none, or not verified). */
  certificateName?: (client: Client) => string | null;
  /** A CONNECT was refused: counted and logged by the broker. */
  refused: (reason: ConnectRefusal, context: Record<string, unknown>) => void;
}

type AuthenticateDone = (error: (Error & { returnCode: 2 | 3 | 4 | 5 }) | null, success: boolean | null) => void;

export class MqttAuthenticator {
  private identities = new Map<string, MqttIdentity>();
  private readonly byClient = new WeakMap<Client, ConnectionIdentity>();
  /** Clients counted as connected (per identity, client id and store) until forgotten. */
  private readonly counted = new WeakSet<Client>();
  /** Connected clients, by identity name, and by client id (to refuse a takeover by another identity). */
  private readonly connectedByName = new Map<string, Set<Client>>();
  private readonly connectedById = new Map<string, Client>();
  private readonly perStore = new Map<string, number>();
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;
  private listening = false;

  constructor(private readonly options: MqttAuthenticatorOptions) {}

  /** Loads the identities and watches the store for changes made elsewhere. */
  start(refreshMs = 1_000): void {
    this.refresh();
    if (!this.listening) this.options.store.onChange(() => this.refresh());
    this.listening = true;
    this.timer = setInterval(() => this.refresh(), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the identities when the store changed; closes connections of revoked or rotated identities. */
  refresh(): void {
    const stamp = this.options.store.changeStamp();
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.identities = new Map(this.options.store.list().map((identity) => [identity.name, identity]));
    for (const [name, clients] of this.connectedByName) {
      const current = this.identities.get(name);
      for (const client of clients) {
        const held = this.byClient.get(client);
        if (current && current.revokedAt === null && held?.generation === current.generation) continue;
        this.options.log.warn(
          { identity: name, clientId: maskClientId(client.id), why: current?.revokedAt == null ? 'secret rotated' : 'revoked' },
          'closing an MQTT connection: its identity was revoked or its secret rotated',
        );
        client.close();
      }
    }
  }

  identityOf(client: Client): ConnectionIdentity | undefined {
    return this.byClient.get(client);
  }

  /** Connected clients per identity name (anonymous ones not included). */
  connectionsOf(name: string): number {
    return this.connectedByName.get(name)?.size ?? 0;
  }

  readonly authenticate = (client: Client, username: string | undefined, password: Buffer | undefined, done: AuthenticateDone): void => {
    this.refresh(); // a device added (or revoked) a moment ago by `storeloop credentials` counts at once
    const verdict = this.decide(client, username, password);
    if ('refusal' in verdict) {
      // a user name is whatever the client sent: masked like a client id (it could be a MAC), and cut short
      const identity = username === undefined ? null : maskClientId(username.slice(0, 128));
      this.options.refused(verdict.refusal, { clientId: maskClientId(client.id), identity, detail: verdict.detail });
      const error = Object.assign(new Error(verdict.detail), { returnCode: RETURN_CODE[verdict.refusal] });
      done(error, false);
      return;
    }
    this.admit(client, verdict.identity);
    done(null, true);
  };

  private decide(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): { identity: ConnectionIdentity } | { refusal: ConnectRefusal; detail: string } {
    const certName = this.options.certificateName?.(client) ?? null;
    let identity: MqttIdentity | undefined;
    if (username !== undefined && username !== '') {
      identity = this.identities.get(username);
      const live = identity !== undefined && identity.revokedAt === null;
      const bySecret = live && password !== undefined && password.length > 0 && this.options.store.verifySecret(identity!, password.toString('utf8'));
      const byCertificate = live && identity!.certificate && certName === username && (password === undefined || password.length === 0);
      if (!bySecret && !byCertificate) return { refusal: 'bad_credentials', detail: 'unknown identity, wrong secret, or revoked' };
      if (certName !== null && certName !== username) return { refusal: 'bad_credentials', detail: 'the client certificate names another identity' };
    } else if (certName !== null) {
      identity = this.identities.get(certName);
      if (!identity || identity.revokedAt !== null || !identity.certificate) {
        return { refusal: 'bad_credentials', detail: 'the client certificate names no identity that may use a certificate' };
      }
    } else if (!this.options.anonymous) {
      return { refusal: 'no_credentials', detail: 'no user name and no client certificate: anonymous clients are off (mqtt.auth.anonymous)' };
    }

    const name = identity?.name ?? null;
    const connected = this.connectedById.get(client.id);
    const connectedAs = connected ? this.byClient.get(connected)?.name : undefined;
    if (connected && connectedAs !== name) return { refusal: 'client_id_taken', detail: 'another identity is connected under this client id' };
    const owner = this.options.store.clientIdOwner(client.id);
    if (owner !== null && owner !== name && this.identities.get(owner)?.revokedAt === null) {
      return { refusal: 'client_id_taken', detail: 'this client id holds a persistent session of another identity' };
    }
    const grant: MqttGrant = identity ?? ANONYMOUS_GRANT;
    const store = boundStore(grant);
    if (store !== null && !connected && (this.perStore.get(store) ?? 0) >= this.options.maxConnectionsPerStore) {
      return { refusal: 'too_many_connections_for_store', detail: `mqtt.limits.maxConnectionsPerStore reached for ${store}` };
    }
    if (name !== null && !connected && this.connectionsOf(name) >= this.options.maxConnectionsPerIdentity) {
      return { refusal: 'too_many_connections_for_identity', detail: `mqtt.limits.maxConnectionsPerIdentity reached for this identity` };
    }
    if (name !== null && client.clean === false && owner !== name) this.options.store.claimClientId(client.id, name);
    return {
      identity: {
        name,
        grant: { role: grant.role, stores: grant.stores, source: grant.source, forwards: grant.forwards },
        generation: identity?.generation ?? 0,
        store,
      },
    };
  }

  private admit(client: Client, identity: ConnectionIdentity): void {
    this.byClient.set(client, identity);
    this.counted.add(client);
    const previous = this.connectedById.get(client.id);
    if (previous) this.forget(previous); // aedes closes it: the same identity reconnected
    this.connectedById.set(client.id, client);
    if (identity.name !== null) {
      let set = this.connectedByName.get(identity.name);
      if (!set) this.connectedByName.set(identity.name, (set = new Set()));
      set.add(client);
    }
    if (identity.store !== null) this.perStore.set(identity.store, (this.perStore.get(identity.store) ?? 0) + 1);
    // the connection's end, however it ends (a later step of CONNECT may still fail, before aedes registers the client)
    (client.conn as { once?: (event: 'close', listener: () => void) => void } | undefined)?.once?.('close', () => this.forget(client));
  }

  /**
   * A client disconnected (or was replaced by a reconnect of the same identity). Its identity stays
   * known (a WeakMap entry) for what aedes still does in its name as it closes: its last will is
   * published through the same ACL.
   */
  forget(client: Client): void {
    const identity = this.byClient.get(client);
    if (!identity || !this.counted.delete(client)) return;
    if (this.connectedById.get(client.id) === client) this.connectedById.delete(client.id);
    if (identity.name !== null) this.connectedByName.get(identity.name)?.delete(client);
    if (identity.store !== null) this.perStore.set(identity.store, (this.perStore.get(identity.store) ?? 1) - 1);
  }
}
