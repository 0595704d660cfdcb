/**
 * The MQTT identities and their secrets: `<state.dir>/mqtt-identities.sqlite`. One row per identity
 * (its MQTT user name, role, grant, the keyed hash of its secret, whether a client certificate naming it
 * may stand in for the secret, revocation), and the client ids each identity owns, so that a client id
 * with a persistent session cannot be taken over by another identity.
 *
 * Shared with the `storeloop credentials` command, which changes it while the gateway runs (WAL, not
 * locked exclusively): the gateway keeps the identities in memory and reloads them when the database's
 * `data_version` moves (`refresh()`, every second), so a revocation takes effect without a restart.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

import type { StoreConfig } from '../../config/index.js';
import { StoreloopError } from '../../lib/errors.js';
import { MQTT_ROLES, type MqttGrant, type MqttRole, type Scope } from './mqtt-grants.js';
import { generateSecret, loadOrCreateSecretKey, SecretHasher } from './secrets.js';

const SCHEMA = `
  CREATE TABLE identities (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    stores TEXT NOT NULL,
    source TEXT,
    forwards TEXT NOT NULL,
    secret_hash TEXT,
    certificate INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE client_ids (
    client_id TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX client_ids_by_identity ON client_ids (identity);
`;

/** MQTT user names: printable, no spaces; `store/source` for devices and agents by default. */
export const IDENTITY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$/;

export interface MqttIdentity extends MqttGrant {
  name: string;
  /** A verified client certificate whose subject CN is this name authenticates it without a secret. */
  certificate: boolean;
  /** Bumped by every rotation and revocation: connections made under an older one are closed. */
  generation: number;
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
  /** The keyed hash of the secret (null: certificate only). Never shown. */
  secretHash: string | null;
}

/** What the API and `storeloop credentials list` show of an identity: never its secret. */
export type MqttIdentityView = Omit<MqttIdentity, 'secretHash' | 'generation'> & { hasSecret: boolean };

export interface NewIdentity {
  name?: string | undefined;
  role: MqttRole;
  stores: Scope;
  source?: string | null | undefined;
  forwards?: Scope | undefined;
  /** Allow a client certificate with this CN instead of the secret. */
  certificate?: boolean | undefined;
  /** Issue no secret (certificate only). */
  noSecret?: boolean | undefined;
}

/** `SL_ERR_CREDENTIALS_INVALID`: a request that cannot be; `_EXISTS`, `_UNKNOWN`: the name; `SL_ERR_CREDENTIALS`: the store itself. */
export type CredentialErrorCode = 'SL_ERR_CREDENTIALS' | 'SL_ERR_CREDENTIALS_INVALID' | 'SL_ERR_CREDENTIALS_EXISTS' | 'SL_ERR_CREDENTIALS_UNKNOWN';

export class CredentialStoreError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown, code: CredentialErrorCode = 'SL_ERR_CREDENTIALS_INVALID') {
    super(code, message, context, { cause });
  }
}

interface Row {
  name: string;
  role: string;
  stores: string;
  source: string | null;
  forwards: string;
  secret_hash: string | null;
  certificate: number;
  generation: number;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
}

function fromRow(row: Row): MqttIdentity {
  return {
    name: row.name,
    role: row.role as MqttRole,
    stores: JSON.parse(row.stores) as Scope,
    source: row.source,
    forwards: JSON.parse(row.forwards) as Scope,
    secretHash: row.secret_hash,
    certificate: row.certificate === 1,
    generation: row.generation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revokedAt: row.revoked_at,
  };
}

export function viewOf(identity: MqttIdentity): MqttIdentityView {
  const { secretHash, generation: _generation, ...rest } = identity;
  return { ...rest, hasSecret: secretHash !== null };
}

/** Checks a new identity's shape: the role decides which fields it needs. */
export function checkNewIdentity(spec: NewIdentity): { name: string; source: string | null; forwards: Scope } {
  if (!MQTT_ROLES.includes(spec.role)) throw new CredentialStoreError(`unknown role '${String(spec.role)}' (roles: ${MQTT_ROLES.join(', ')})`);
  const bound = spec.role === 'device' || spec.role === 'agent';
  const source = spec.source ?? null;
  if (bound) {
    if (spec.stores === '*' || spec.stores.length !== 1) throw new CredentialStoreError(`a ${spec.role} belongs to exactly one store (--store)`);
    if (source === null) throw new CredentialStoreError(`a ${spec.role} needs its source id (--source), as in the store's config`);
  } else if (source !== null) {
    throw new CredentialStoreError(`a ${spec.role} has no source of its own; it is granted stores (--store, or '*')`);
  }
  if (spec.stores !== '*' && spec.stores.length === 0) throw new CredentialStoreError('grant at least one store (or every store: *)');
  if (spec.forwards !== undefined && spec.role !== 'agent') throw new CredentialStoreError('only an agent forwards for other sources (--forwards)');
  const name = spec.name ?? (bound ? `${(spec.stores as readonly string[])[0]}/${source}` : undefined);
  if (name === undefined) throw new CredentialStoreError(`a ${spec.role} needs a name (--name): its MQTT user name`);
  if (!IDENTITY_NAME_PATTERN.test(name)) throw new CredentialStoreError(`'${name}' is not a valid name: 1-128 characters of A-Z a-z 0-9 _ . : @ / -`);
  if (spec.noSecret === true && spec.certificate !== true)
    throw new CredentialStoreError('an identity without a secret needs a client certificate (--certificate)');
  return { name, source, forwards: spec.forwards ?? '*' };
}

export class MqttIdentityStore {
  private db: Database.Database | undefined;
  private stmts:
    | {
        all: Database.Statement;
        get: Database.Statement;
        insert: Database.Statement;
        setSecret: Database.Statement;
        revoke: Database.Statement;
        remove: Database.Statement;
        owner: Database.Statement;
        claim: Database.Statement;
        release: Database.Statement;
        dataVersion: Database.Statement;
      }
    | undefined;

  private hasher: SecretHasher | undefined;
  private localChanges = 0;
  private readonly listeners: Array<() => void> = [];

  /** `keyFile`: the gateway's secret key (created at the first open when missing). */
  constructor(
    private readonly file: string,
    private readonly keyFile: string,
    private readonly now: () => number = Date.now,
  ) {}

  open(): void {
    this.hasher = new SecretHasher(loadOrCreateSecretKey(this.keyFile));
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const db = new Database(this.file, { timeout: 5_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      if ((db.pragma('user_version', { simple: true }) as number) === 0) {
        db.exec(SCHEMA);
        db.pragma('user_version = 1');
      }
      this.stmts = {
        all: db.prepare('SELECT * FROM identities ORDER BY name'),
        get: db.prepare('SELECT * FROM identities WHERE name = ?'),
        insert: db.prepare(
          `INSERT INTO identities (name, role, stores, source, forwards, secret_hash, certificate, generation, created_at, updated_at, revoked_at)
           VALUES (@name, @role, @stores, @source, @forwards, @secret_hash, @certificate, 1, @now, @now, NULL)`,
        ),
        setSecret: db.prepare('UPDATE identities SET secret_hash = ?, generation = generation + 1, updated_at = ? WHERE name = ? AND revoked_at IS NULL'),
        revoke: db.prepare(
          'UPDATE identities SET revoked_at = ?, secret_hash = NULL, generation = generation + 1, updated_at = ? WHERE name = ? AND revoked_at IS NULL',
        ),
        remove: db.prepare('DELETE FROM identities WHERE name = ?'),
        owner: db.prepare('SELECT identity FROM client_ids WHERE client_id = ?').pluck(),
        claim: db.prepare('INSERT OR REPLACE INTO client_ids (client_id, identity, claimed_at) VALUES (?, ?, ?)'),
        release: db.prepare('DELETE FROM client_ids WHERE identity = ?'),
        dataVersion: db.prepare('PRAGMA data_version').pluck(),
      };
      this.db = db;
    } catch (err) {
      throw new CredentialStoreError(`cannot open the MQTT identities ${this.file}: ${(err as Error).message}`, { file: this.file }, err, 'SL_ERR_CREDENTIALS');
    }
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
  }

  private s(): NonNullable<MqttIdentityStore['stmts']> {
    if (!this.stmts) throw new CredentialStoreError('the MQTT identity store is not open', { file: this.file }, undefined, 'SL_ERR_CREDENTIALS');
    return this.stmts;
  }

  private h(): SecretHasher {
    if (!this.hasher) throw new CredentialStoreError('the MQTT identity store is not open', { file: this.file }, undefined, 'SL_ERR_CREDENTIALS');
    return this.hasher;
  }

  /**
   * Moves with every change: by this store (counted here) or by another connection, such as the
   * `storeloop credentials` command in another process (SQLite's data_version).
   */
  changeStamp(): string {
    return `${this.s().dataVersion.get() as number}:${this.localChanges}`;
  }

  /** Calls `listener` after each change made through this store. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    this.localChanges += 1;
    for (const listener of this.listeners) listener();
  }

  list(): MqttIdentity[] {
    return (this.s().all.all() as Row[]).map(fromRow);
  }

  get(name: string): MqttIdentity | undefined {
    const row = this.s().get.get(name) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Adds an identity; returns it and its secret (shown once, stored only hashed). */
  add(spec: NewIdentity): { identity: MqttIdentity; secret: string | null } {
    const { name, source, forwards } = checkNewIdentity(spec);
    const existing = this.get(name);
    if (existing && existing.revokedAt === null)
      throw new CredentialStoreError(`an identity named '${name}' exists: rotate its secret instead`, { name }, undefined, 'SL_ERR_CREDENTIALS_EXISTS');
    const secret = spec.noSecret === true ? null : generateSecret();
    const now = this.now();
    this.db!.transaction(() => {
      if (existing) this.s().remove.run(name); // a revoked identity of that name is replaced
      this.s().insert.run({
        name,
        role: spec.role,
        stores: JSON.stringify(spec.stores),
        source,
        forwards: JSON.stringify(forwards),
        secret_hash: secret === null ? null : this.h().hash(secret),
        certificate: spec.certificate === true ? 1 : 0,
        now,
      });
    })();
    this.changed();
    return { identity: this.get(name)!, secret };
  }

  /**
   * The identity with a fresh secret: added, or, when an identity of that name is active already (a
   * state dir kept from an earlier run of the demo or a test), given a new secret.
   */
  issue(spec: NewIdentity): { identity: MqttIdentity; secret: string | null } {
    const { name } = checkNewIdentity(spec);
    return this.get(name)?.revokedAt === null ? this.rotate(name) : this.add(spec);
  }

  /** A new secret for an identity: the old one stops working, and its connections are closed. */
  rotate(name: string): { identity: MqttIdentity; secret: string } {
    const secret = generateSecret();
    const changed = this.s().setSecret.run(this.h().hash(secret), this.now(), name).changes;
    if (changed === 0) throw new CredentialStoreError(`no identity named '${name}' (or it is revoked)`, { name }, undefined, 'SL_ERR_CREDENTIALS_UNKNOWN');
    this.changed();
    return { identity: this.get(name)!, secret };
  }

  /** Revokes an identity: its secret is deleted, its client ids are released, its connections are closed. */
  revoke(name: string): MqttIdentity {
    const now = this.now();
    const changed = this.db!.transaction(() => {
      const n = this.s().revoke.run(now, now, name).changes;
      if (n > 0) this.s().release.run(name);
      return n;
    })();
    if (changed === 0)
      throw new CredentialStoreError(`no identity named '${name}' (or it is already revoked)`, { name }, undefined, 'SL_ERR_CREDENTIALS_UNKNOWN');
    this.changed();
    return this.get(name)!;
  }

  /** The identity that owns a client id (null: nobody yet). */
  clientIdOwner(clientId: string): string | null {
    return (this.s().owner.get(clientId) as string | undefined) ?? null;
  }

  /** Records that `identity` owns `clientId` (a persistent session was opened under it). */
  claimClientId(clientId: string, identity: string): void {
    this.s().claim.run(clientId, identity, this.now());
  }

  /** Whether `secret` is the current secret of `identity`. */
  verifySecret(identity: MqttIdentity, secret: string): boolean {
    return identity.secretHash !== null && this.h().verify(secret, identity.secretHash);
  }
}

/**
 * An identity for a store or source the config does not have could never publish: refused, naming
 * what is missing. A device's source must be one of its store's sensors, touchpoints or devices; an
 * agent's an agent of the store; what an agent forwards for, its store's sources.
 */
export function checkIdentityAgainstStores(
  configured: readonly StoreConfig[],
  spec: { role: MqttRole; stores: Scope; source: string | null; forwards?: Scope | undefined },
): void {
  if (spec.stores === '*') return;
  for (const id of spec.stores) {
    const store = configured.find((s) => s.id === id);
    if (!store) throw new CredentialStoreError(`store '${id}' is not in the config (stores: ${configured.map((s) => s.id).join(', ')})`);
    const agents = new Set(store.agents.map((a) => a.id));
    const sources = new Set([...store.sensors, ...store.touchpoints, ...store.devices].map((s) => s.id));
    const { source } = spec;
    if (source !== null && spec.role === 'agent' && !agents.has(source))
      throw new CredentialStoreError(`'${source}' is not an agent of store '${id}' (stores[].agents)`);
    if (source !== null && spec.role === 'device' && !sources.has(source))
      throw new CredentialStoreError(`source '${source}' is not in store '${id}' of the config`);
    for (const f of spec.forwards === undefined || spec.forwards === '*' ? [] : spec.forwards) {
      if (!sources.has(f)) throw new CredentialStoreError(`source '${f}' (forwards) is not in store '${id}' of the config`);
    }
  }
}
