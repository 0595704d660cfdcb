/**
 * Secrets of the gateway's identities (MQTT device credentials, HTTP API tokens): generated with 256
 * bits of entropy, shown once, stored only as a keyed hash (HMAC-SHA256 under the gateway's secret key).
 *
 * Why a fast keyed hash and not scrypt/argon2: the secrets are random, not chosen by people, so there
 * is nothing to guess offline and a slow KDF buys nothing; it would cost ~44 ms of CPU per CONNECT here,
 * minutes in a reconnect storm of 10,000 devices. The key (in `<state.dir>/secret.key`, mode 0600, or a
 * file the operator names) means a copy of the credential database alone does not even allow checking
 * a candidate secret.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { StoreloopError } from '../../lib/errors.js';

/** Bytes of a generated secret (base64url: 43 characters). */
const SECRET_BYTES = 32;
const KEY_BYTES = 32;

export class SecretKeyError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_SECRET_KEY', message, context, { cause });
  }
}

/** A new random secret, URL- and shell-safe. */
export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** Hashes and checks secrets under one key. */
export class SecretHasher {
  constructor(private readonly key: Buffer) {
    if (key.length < 16) throw new SecretKeyError('the secret key is shorter than 16 bytes', { bytes: key.length });
  }

  /** The stored form of a secret: `hmac-sha256:<base64url>`. */
  hash(secret: string): string {
    return `hmac-sha256:${createHmac('sha256', this.key).update(secret, 'utf8').digest('base64url')}`;
  }

  /** Whether `secret` hashes to `stored`, in time independent of where they differ. */
  verify(secret: string, stored: string): boolean {
    const expected = Buffer.from(stored, 'utf8');
    const actual = Buffer.from(this.hash(secret), 'utf8');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

/**
 * Reads the secret key from `file`, creating it (random, mode 0600) when it does not exist. A key file
 * that exists but is empty or unreadable is an error, never silently replaced: every stored hash
 * depends on it.
 */
export function loadOrCreateSecretKey(file: string): Buffer {
  if (!existsSync(file)) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw new SecretKeyError(`cannot create the secret key ${file}`, { file }, err);
    }
  }
  let key: Buffer;
  try {
    key = readFileSync(file);
    chmodSync(file, 0o600);
  } catch (err) {
    throw new SecretKeyError(`cannot read the secret key ${file}`, { file }, err);
  }
  if (key.length < 16)
    throw new SecretKeyError(`the secret key ${file} holds ${key.length} bytes; it needs at least 16 (delete it only if no credentials exist yet)`, { file });
  return key;
}

/** Where the secret key of a gateway with this state config lives. */
export function secretKeyPath(state: { dir: string; secretKeyFile?: string | undefined }): string {
  return state.secretKeyFile ?? join(state.dir, 'secret.key');
}
