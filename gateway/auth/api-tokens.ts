/**
 * Bearer tokens of the HTTP API: `<state.dir>/api-tokens.sqlite`, each with a name, scopes, an optional
 * expiry, and its secret stored only as a keyed hash (gateway/auth/secrets.ts). A token reads
 * `sl_<id>_<secret>`: the id finds the row, the secret is checked against its hash. It is shown once,
 * when it is made, and never logged.
 *
 * The database is shared, not held exclusively: `storeloop tokens add|revoke` writes it while the
 * gateway runs, and the gateway looks a token up on every request (one indexed read), so a revocation
 * holds from the next request on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';
import { z } from 'zod';

import { StoreloopError } from '../../lib/errors.js';
import { generateSecret, loadOrCreateSecretKey, SecretHasher } from './secrets.js';

/**
 * What a token may do. `analyst`: read-only analytics (live counts, store layout); `operator`: plus
 * rejections, ledger, sinks, dead letters, replay and detach, /metrics; `privacy-officer`: the consent
 * routes (gateway/http/consent-routes.ts); `integration`: consents from the CRM; `admin`: everything, token management too.
 */
export const API_SCOPES = ['analyst', 'operator', 'privacy-officer', 'integration', 'admin'] as const;
export const ApiScopeSchema = z.enum(API_SCOPES);
export type ApiScope = z.infer<typeof ApiScopeSchema>;

/** The scopes each scope includes. */
const INCLUDED: Record<ApiScope, readonly ApiScope[]> = {
  analyst: ['analyst'],
  operator: ['operator', 'analyst'],
  'privacy-officer': ['privacy-officer'],
  integration: ['integration'],
  admin: API_SCOPES,
};

/** Whether a token holding `held` may use a route that needs `needed`. */
export function hasScope(held: readonly ApiScope[], needed: ApiScope): boolean {
  return held.some((scope) => INCLUDED[scope].includes(needed));
}

/** A token as listed: never its secret. */
export interface ApiToken {
  id: string;
  name: string;
  scopes: ApiScope[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export type TokenCheck = { ok: true; token: ApiToken } | { ok: false; reason: 'invalid_token' | 'revoked' | 'expired' };

/** `SL_ERR_API_TOKEN_INVALID` (a bad name, scope or expiry), `…_NAME_TAKEN`, `…_UNKNOWN`, or `SL_ERR_API_TOKENS` (the store itself). */
export class ApiTokenError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown, code = 'SL_ERR_API_TOKENS') {
    super(code, message, context, { cause });
  }
}

const INVALID = 'SL_ERR_API_TOKEN_INVALID';
const TOKEN_PATTERN = /^sl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** last_used_at is written at most this often per token: a read-mostly table, even under load. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** A CLI write (add, revoke) holds the lock for a few ms; the gateway waits this long for it, at most. */
const BUSY_TIMEOUT_MS = 2_000;

const SCHEMA = `
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
  );
  CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
`;

interface Row {
  id: string;
  name: string;
  scopes: string;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

function toToken(row: Row): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(',').filter((s): s is ApiScope => ApiScopeSchema.safeParse(s).success),
    createdAt: new Date(row.created_at),
    expiresAt: date(row.expires_at),
    revokedAt: date(row.revoked_at),
    lastUsedAt: date(row.last_used_at),
  };
}

/** The id part of a token string, or undefined when it is not shaped like one (for messages and logs). */
export function tokenIdOf(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}

export class ApiTokenStore {
  private db: Database.Database | undefined;
  private hasher: SecretHasher | undefined;
  private statements:
    { byId: Database.Statement; list: Database.Statement; insert: Database.Statement; revoke: Database.Statement; touch: Database.Statement } | undefined;

  /** `file`: the sqlite file; `keyFile`: the gateway's secret key (secretKeyPath(config.state)). */
  constructor(private readonly options: { file: string; keyFile: string }) {}

  open(): void {
    const { file } = this.options;
    try {
      this.hasher = new SecretHasher(loadOrCreateSecretKey(this.options.keyFile));
      mkdirSync(dirname(file), { recursive: true });
      const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
      // WAL and normal locking: the CLI adds and revokes tokens while the gateway reads them
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) === 0) {
          db.exec(SCHEMA);
          db.pragma('user_version = 1');
        }
      }).immediate();
      this.statements = {
        byId: db.prepare('SELECT * FROM api_tokens WHERE id = ?'),
        list: db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id'),
        insert: db.prepare(
          'INSERT INTO api_tokens (id, name, scopes, secret_hash, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)',
        ),
        revoke: db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
        touch: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?'),
      };
      this.db = db;
    } catch (err) {
      if (err instanceof StoreloopError) throw err;
      throw new ApiTokenError(`cannot open the API token store ${file}`, { file, sqliteCode: (err as { code?: string }).code }, err);
    }
  }

  /** Makes a token. The returned `secret` (the whole token string) is shown once and stored nowhere. */
  add(spec: { name: string; scopes: readonly ApiScope[]; expiresAt?: Date | undefined }, now = Date.now()): { token: string; info: ApiToken } {
    const name = spec.name.trim();
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
      throw new ApiTokenError(`token name '${spec.name}': expected 1-64 characters of A-Z a-z 0-9 _ . @ -`, { name: spec.name }, undefined, INVALID);
    }
    if (spec.scopes.length === 0) throw new ApiTokenError(`token '${name}': give at least one scope (${API_SCOPES.join(', ')})`, { name }, undefined, INVALID);
    if (spec.expiresAt !== undefined && spec.expiresAt.getTime() <= now)
      throw new ApiTokenError(`token '${name}': its expiry is in the past`, { name }, undefined, INVALID);
    const stmts = this.stmts();
    const id = randomBytes(6).toString('hex');
    const secret = generateSecret();
    const scopes = [...new Set(spec.scopes)];
    try {
      stmts.insert.run(id, name, scopes.join(','), this.requireHasher().hash(secret), now, spec.expiresAt?.getTime() ?? null);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new ApiTokenError(
          `a token named '${name}' exists and is not revoked: revoke it first or choose another name`,
          { name },
          err,
          'SL_ERR_API_TOKEN_NAME_TAKEN',
        );
      }
      throw err;
    }
    return { token: `sl_${id}_${secret}`, info: toToken(stmts.byId.get(id) as Row) };
  }

  /** Every token, revoked and expired ones included, oldest first. */
  list(): ApiToken[] {
    return (this.stmts().list.all() as Row[]).map(toToken);
  }

  /** Revokes the token with this id, or the unrevoked one with this name; throws when there is none. */
  revoke(idOrName: string, now = Date.now()): ApiToken {
    const stmts = this.stmts();
    const match = (stmts.list.all() as Row[]).find((r) => r.id === idOrName || (r.name === idOrName && r.revoked_at === null));
    if (match === undefined)
      throw new ApiTokenError(
        `no token with the id or name '${idOrName}' (storeloop tokens list shows them)`,
        { idOrName },
        undefined,
        'SL_ERR_API_TOKEN_UNKNOWN',
      );
    stmts.revoke.run(now, match.id);
    return toToken(stmts.byId.get(match.id) as Row);
  }

  /** Checks a presented token string: its id exists, its secret matches, it is neither revoked nor expired. */
  authenticate(token: string, now = Date.now()): TokenCheck {
    const parts = TOKEN_PATTERN.exec(token);
    if (!parts) return { ok: false, reason: 'invalid_token' };
    const row = this.stmts().byId.get(parts[1]) as Row | undefined;
    // an unknown id and a wrong secret answer alike
    if (row === undefined || !this.requireHasher().verify(parts[2] as string, row.secret_hash)) return { ok: false, reason: 'invalid_token' };
    return this.usable(row, now);
  }

  /** The current state of a token already authenticated (a browser session's): revoked or expired since? */
  check(id: string, now = Date.now()): TokenCheck {
    const row = this.stmts().byId.get(id) as Row | undefined;
    return row === undefined ? { ok: false, reason: 'invalid_token' } : this.usable(row, now);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
  }

  private usable(row: Row, now: number): TokenCheck {
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    if (row.expires_at !== null && row.expires_at <= now) return { ok: false, reason: 'expired' };
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) this.touch(row, now);
    return { ok: true, token: toToken(row) };
  }

  private touch(row: Row, now: number): void {
    try {
      this.stmts().touch.run(now, row.id);
      row.last_used_at = now;
    } catch (err) {
      // last_used_at is a hint for operators: a write that found the CLI holding the lock is retried on
      // the token's next use rather than failing the request
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    }
  }

  private requireHasher(): SecretHasher {
    if (!this.hasher) throw new ApiTokenError('the API token store is not open', { file: this.options.file });
    return this.hasher;
  }

  private stmts() {
    if (!this.statements) throw new ApiTokenError('the API token store is not open', { file: this.options.file });
    return this.statements;
  }
}
